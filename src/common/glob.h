// Glob-style pattern matching with Redis's rules (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET):
// `*`, `?`, `[abc]`, `[a-z]`, `[^a-z]` (only `^` negates; `[!a]` matches `!` or `a`), and `\x`
// to match x literally.
#pragma once

#include <string_view>

namespace runnel {

bool GlobMatch(std::string_view pattern, std::string_view s, bool nocase = false);

}  // namespace runnel
