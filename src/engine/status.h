// Outcomes of engine operations. The command layer maps each to the exact Redis error string in
// one place (commands/errors.h).
#pragma once

namespace runnel::engine {

enum class Status {
  kOk,
  kNotFound,
  kWrongType,
  kNotInteger,
  kNotFloat,
  kOverflow,
  kOutOfRange,
  kExists,
  kSyntax,
};

}  // namespace runnel::engine
