// The command table and the usage-syntax parser that turns "key [EX seconds|PX milliseconds]"
// into the argument trees COMMAND DOCS reports.
#include "commands/table.h"

#include <algorithm>
#include <cctype>

#include "common/util.h"

namespace runnel::commands {

// ---------------------------------------------------------------------------------------------
// Syntax parsing
// ---------------------------------------------------------------------------------------------

namespace {

using Type = ArgSpec::Type;

bool IsTokenWord(std::string_view w) {
  bool has_alpha = false;
  for (char c : w) {
    if (std::islower(static_cast<unsigned char>(c))) return false;
    has_alpha = has_alpha || std::isupper(static_cast<unsigned char>(c));
  }
  return has_alpha;
}

Type TypeForName(std::string_view name) {
  static const char* kIntegers[] = {"count",  "seconds",   "milliseconds", "index",   "start",
                                    "end",    "offset",    "increment",    "decrement", "db",
                                    "timeout", "numkeys",  "cursor",       "port",    "len",
                                    "protover", "numreplicas", "client-id", "numlocal", "rank",
                                    "maxlen", "ttl", "delay", "destination-db", "min-idle-time",
                                    "entries-read", "entries-added", "limit", "id"};
  if (name == "key" || name.ends_with("key") || name == "destination" || name == "source")
    return Type::kKey;
  if (name == "pattern") return Type::kPattern;
  if (name.starts_with("unix-time")) return Type::kUnixTime;
  for (const char* n : kIntegers)
    if (name == n) return Type::kInteger;
  return Type::kString;
}

class SyntaxParser {
 public:
  explicit SyntaxParser(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
      char c = s[i];
      if (c == ' ') {
        ++i;
      } else if (c == '[' || c == ']' || c == '|') {
        tokens_.emplace_back(1, c);
        ++i;
      } else if (s.substr(i, 3) == "...") {
        tokens_.emplace_back("...");
        i += 3;
      } else {
        size_t j = i;
        while (j < s.size() && s[j] != ' ' && s[j] != '[' && s[j] != ']' && s[j] != '|') ++j;
        tokens_.emplace_back(s.substr(i, j - i));
        i = j;
      }
    }
  }

  // A top-level "A|B|C" is one one-of argument, as in "CLIENT REPLY ON|OFF|SKIP".
  std::vector<ArgSpec> Parse() {
    std::vector<std::vector<ArgSpec>> alts{Sequence()};
    while (!AtEnd() && Peek() == "|") {
      ++pos_;
      alts.push_back(Sequence());
    }
    if (alts.size() == 1) return std::move(alts[0]);
    return {Alternatives(std::move(alts))};
  }

 private:
  bool AtEnd() const { return pos_ >= tokens_.size(); }
  const std::string& Peek() const { return tokens_[pos_]; }

  // Elements until ']' or '|' or the end, grouped: TOKEN name -> arg with token.
  std::vector<ArgSpec> Sequence() {
    std::vector<ArgSpec> out;
    while (!AtEnd() && Peek() != "]" && Peek() != "|") {
      ArgSpec a = Element();
      if (!AtEnd() && Peek() == "...") {
        ++pos_;
        a.multiple = true;
      }
      // "x [x ...]": fold the repeat into x.
      if (!out.empty() && a.optional && a.multiple && SameShape(out.back(), a)) {
        out.back().multiple = true;
        continue;
      }
      out.push_back(std::move(a));
    }
    return GroupTokens(std::move(out));
  }

  static bool SameShape(const ArgSpec& a, const ArgSpec& b) {
    if (b.type == Type::kBlock && a.type != Type::kBlock) return false;
    return a.name == b.name;
  }

  ArgSpec Element() {
    const std::string t = tokens_[pos_++];
    if (t == "[") {
      std::vector<std::vector<ArgSpec>> alts{Sequence()};
      while (!AtEnd() && Peek() == "|") {
        ++pos_;
        alts.push_back(Sequence());
      }
      if (!AtEnd() && Peek() == "]") ++pos_;
      bool repeated = !AtEnd() && Peek() == "...";
      if (repeated) ++pos_;
      ArgSpec a = Alternatives(std::move(alts));
      a.optional = true;
      a.multiple = a.multiple || repeated;
      return a;
    }
    ArgSpec a;
    if (IsTokenWord(t)) {
      a.type = Type::kPureToken;
      a.token = t;
      a.name = ToLower(t);
    } else {
      size_t colon = t.find(':');
      a.name = t.substr(0, colon);
      a.type = TypeForName(a.name);
      if (colon != std::string::npos) {
        std::string_view ty = std::string_view(t).substr(colon + 1);
        a.type = ty == "integer" ? Type::kInteger : ty == "double" ? Type::kDouble
                 : ty == "key"   ? Type::kKey     : Type::kString;
      }
    }
    return a;
  }

  static ArgSpec Alternatives(std::vector<std::vector<ArgSpec>> alts) {
    if (alts.size() == 1) return Collapse(std::move(alts[0]));
    ArgSpec oneof;
    oneof.type = Type::kOneOf;
    for (auto& alt : alts) oneof.children.push_back(Collapse(std::move(alt)));
    std::string name;
    for (auto& c : oneof.children) name += (name.empty() ? "" : "-") + c.name;
    oneof.name = name.size() > 32 ? "condition" : name;
    return oneof;
  }

  // A sequence as one argument: itself if single, else a block.
  static ArgSpec Collapse(std::vector<ArgSpec> seq) {
    if (seq.size() == 1) return std::move(seq[0]);
    ArgSpec block;
    block.type = Type::kBlock;
    block.name = seq.empty() ? "args" : seq[0].name;
    block.children = std::move(seq);
    return block;
  }

  // TOKEN followed by one argument becomes that argument with the token; by several, a block.
  static std::vector<ArgSpec> GroupTokens(std::vector<ArgSpec> in) {
    std::vector<ArgSpec> out;
    for (size_t i = 0; i < in.size(); ++i) {
      ArgSpec& a = in[i];
      if (a.type == Type::kPureToken && !a.optional && !a.multiple && i + 1 < in.size() &&
          in[i + 1].type != Type::kPureToken && !in[i + 1].optional) {
        size_t j = i + 1;
        while (j < in.size() && in[j].type != Type::kPureToken && !in[j].optional) ++j;
        if (j - i == 2) {
          ArgSpec arg = std::move(in[i + 1]);
          arg.token = a.token;
          out.push_back(std::move(arg));
        } else {
          ArgSpec block;
          block.type = Type::kBlock;
          block.name = a.name;
          block.token = a.token;
          for (size_t k = i + 1; k < j; ++k) block.children.push_back(std::move(in[k]));
          out.push_back(std::move(block));
        }
        i = j - 1;
        continue;
      }
      out.push_back(std::move(a));
    }
    return out;
  }

  std::vector<std::string> tokens_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<ArgSpec> ParseSyntax(std::string_view syntax) { return SyntaxParser(syntax).Parse(); }

// ---------------------------------------------------------------------------------------------
// Key positions
// ---------------------------------------------------------------------------------------------

void CommandSpec::KeyPositions(std::span<const std::string_view> args,
                               std::vector<int>* out) const {
  out->clear();
  if (key_finder != nullptr) {
    key_finder(args, out);
    return;
  }
  if (keys.first <= 0) return;
  int argc = static_cast<int>(args.size());
  int last = keys.last >= 0 ? keys.last : argc + keys.last;
  if (last >= argc) last = argc - 1;
  for (int i = keys.first; i <= last; i += std::max(1, keys.step)) out->push_back(i);
}

// ---------------------------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------------------------

CommandSpec& CommandTable::Add(CommandSpec spec) {
  auto p = std::make_unique<CommandSpec>(std::move(spec));
  p->args = ParseSyntax(p->syntax);
  p->id = next_id_++;
  by_id_.push_back(p.get());
  Index(p.get());
  commands_.push_back(std::move(p));
  return *commands_.back();
}

CommandSpec& CommandTable::AddSub(CommandSpec& parent, CommandSpec spec) {
  auto p = std::make_unique<CommandSpec>(std::move(spec));
  p->args = ParseSyntax(p->syntax);
  p->name = parent.name + "|" + p->name;
  p->parent = &parent;
  if (p->group.empty()) p->group = parent.group;
  p->id = next_id_++;
  by_id_.push_back(p.get());
  parent.subcommands.push_back(std::move(p));
  return *parent.subcommands.back();
}

namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

// FNV-1a over the name with ASCII letters folded to lowercase.
uint64_t NameHash(std::string_view name) {
  uint64_t h = 14695981039346656037ULL;
  for (char c : name) {
    h ^= static_cast<unsigned char>(Lower(c));
    h *= 1099511628211ULL;
  }
  return h;
}

// `lower` is a row's (lowercase) name.
bool SameName(std::string_view lower, std::string_view name) {
  if (lower.size() != name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (Lower(name[i]) != lower[i]) return false;
  return true;
}

void Place(std::vector<const CommandSpec*>& slots, const CommandSpec* spec) {
  size_t mask = slots.size() - 1;
  size_t i = NameHash(spec->name) & mask;
  while (slots[i] != nullptr) i = (i + 1) & mask;
  slots[i] = spec;
}

}  // namespace

void CommandTable::Index(const CommandSpec* spec) {
  if (++indexed_ * 2 > slots_.size()) {  // keep at most half the slots used
    std::vector<const CommandSpec*> grown(std::max<size_t>(64, slots_.size() * 2), nullptr);
    for (const CommandSpec* s : slots_)
      if (s != nullptr) Place(grown, s);
    slots_.swap(grown);
  }
  Place(slots_, spec);
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  if (slots_.empty()) return nullptr;
  size_t mask = slots_.size() - 1;
  for (size_t i = NameHash(name) & mask;; i = (i + 1) & mask) {
    const CommandSpec* s = slots_[i];
    if (s == nullptr || SameName(s->name, name)) return s;
  }
}

const CommandSpec* CommandTable::FindSub(const CommandSpec& parent, std::string_view name) const {
  for (const auto& sub : parent.subcommands) {
    std::string_view short_name = std::string_view(sub->name).substr(parent.name.size() + 1);
    if (EqualsIgnoreCase(short_name, name)) return sub.get();
  }
  return nullptr;
}

const CommandTable& Commands() {
  static const CommandTable* table = [] {
    auto* t = new CommandTable();
    RegisterStrings(*t);
    RegisterKeys(*t);
    RegisterDump(*t);
    RegisterTransactions(*t);
    RegisterPubSub(*t);
    RegisterConnection(*t);
    RegisterServer(*t);
    RegisterStreams(*t);
    RegisterSets(*t);
    RegisterLists(*t);
    RegisterHashes(*t);
    RegisterZSets(*t);
    return t;
  }();
  return *table;
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

const char* FlagName(Flag f) {
  switch (f) {
    case kWrite: return "write";
    case kReadOnly: return "readonly";
    case kDenyOom: return "denyoom";
    case kAdmin: return "admin";
    case kPubSub: return "pubsub";
    case kNoScript: return "noscript";
    case kBlocking: return "blocking";
    case kLoading: return "loading";
    case kStale: return "stale";
    case kSkipMonitor: return "skip_monitor";
    case kSkipSlowlog: return "skip_slowlog";
    case kFast: return "fast";
    case kNoAuth: return "no_auth";
    case kMayReplicate: return "may_replicate";
    case kNoMandatoryKeys: return "no_mandatory_keys";
    case kNoMulti: return "no_multi";
    case kAllowBusy: return "allow_busy";
    default: return nullptr;
  }
}

std::vector<std::string> FlagNames(uint32_t flags) {
  std::vector<std::string> out;
  for (int bit = 0; bit < 24; ++bit) {
    if ((flags & (1u << bit)) == 0) continue;
    if (const char* n = FlagName(static_cast<Flag>(1u << bit))) out.emplace_back(n);
  }
  return out;
}

std::vector<std::string> CategoryNames(uint32_t categories) {
  static const char* kNames[] = {"keyspace", "read",       "write",    "set",     "sortedset",
                                 "list",     "hash",       "string",   "bitmap",  "hyperloglog",
                                 "geo",      "stream",     "pubsub",   "admin",   "fast",
                                 "slow",     "blocking",   "dangerous", "connection",
                                 "transaction", "scripting"};
  std::vector<std::string> out;
  for (int bit = 0; bit < 21; ++bit)
    if (categories & (1u << bit)) out.push_back(std::string("@") + kNames[bit]);
  return out;
}

}  // namespace runnel::commands
