// The string command family: GET/SET and their variants (SETNX, SETEX, PSETEX, GETSET, GETDEL,
// GETEX), MGET/MSET/MSETNX, counters (INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT), byte ranges
// (APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE) and LCS. Handlers parse their arguments, reply with
// an error early, then work on the locked keys through engine::Db.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/table.h"
#include "common/config.h"
#include "common/util.h"
#include "engine/entry.h"
#include "engine/keyspace.h"

namespace runnel::commands {

namespace {

using engine::Db;
using engine::Encoding;
using engine::Entry;
using engine::Status;
using engine::ValueType;

constexpr std::string_view kErrStringTooBig =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
constexpr std::string_view kErrNanOrInf = "ERR increment would produce NaN or Infinity";
constexpr std::string_view kErrDecrOverflow = "ERR decrement would overflow";
constexpr std::string_view kErrOffsetRange = "ERR offset is out of range";
constexpr std::string_view kErrLcsType = "ERR The specified keys must contain string values";
constexpr std::string_view kErrLcsLenAndIdx =
    "ERR If you want both the length and indexes, please just use IDX.";
constexpr std::string_view kErrLcsTooLong = "ERR String too long for LCS";
constexpr std::string_view kErrLcsMemory =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";

// ---------------------------------------------------------------------------------------------
// Lookups and shared checks
// ---------------------------------------------------------------------------------------------

// Looks a string key up the way Redis's read lookups do: a present key (of any type) counts as a
// keyspace hit, a missing one as a miss. Returns kOk, kNotFound or kWrongType.
Status ReadString(CommandContext& ctx, Db& db, std::string_view key, Entry** e) {
  Status s = db.FindTyped(key, ValueType::kString, e);
  auto& counter = s == Status::kNotFound ? ctx.stats().keyspace_misses : ctx.stats().keyspace_hits;
  counter.fetch_add(1, std::memory_order_relaxed);
  if (s == Status::kNotFound) ctx.Notify(kNotifyKeyMiss, "keymiss", key);
  return s;
}

// Looks a key up for writing (no hit/miss accounting). Replies WRONGTYPE and returns false if it
// holds another type; *e is nullptr when the key is missing.
bool FindStringForWrite(CommandContext& ctx, Db& db, std::string_view key, Entry** e) {
  *e = db.Find(key);
  if (*e != nullptr && (*e)->type != ValueType::kString) {
    ctx.Error(kErrWrongType);
    return false;
  }
  return true;
}

// Replies an error unless a string of `size + growth` bytes is allowed. Besides
// proto-max-bulk-len, an entry stores a string's length in 32 bits.
bool CheckStringLength(CommandContext& ctx, uint64_t size, uint64_t growth) {
  uint64_t total = size + growth;
  uint64_t limit = static_cast<uint64_t>(GlobalConfig().proto_max_bulk_len.load());
  if (total > limit || total > UINT32_MAX) {
    ctx.Error(kErrStringTooBig);
    return false;
  }
  return true;
}

bool ParseIntArg(CommandContext& ctx, size_t i, int64_t* out) {
  if (ParseInt64(ctx.arg(i), out)) return true;
  ctx.Error(kErrNotInteger);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Expire options (SET, SETEX, PSETEX, GETEX)
// ---------------------------------------------------------------------------------------------

enum class ExpireUnit { kNone, kEx, kPx, kExAt, kPxAt };

void ReplyInvalidExpire(CommandContext& ctx) {
  std::string msg(kErrInvalidExpire);
  msg.replace(msg.find("{}"), 2, ctx.spec()->name);
  ctx.Error(msg);
}

// Converts an expire argument to an absolute time in ms, rejecting values <= 0 and values whose
// conversion to ms or to an absolute time would overflow. Replies an error and returns false.
bool ExpireAtMs(CommandContext& ctx, std::string_view arg, ExpireUnit unit, int64_t* at) {
  int64_t v;
  if (!ParseInt64(arg, &v)) {
    ctx.Error(kErrNotInteger);
    return false;
  }
  bool seconds = unit == ExpireUnit::kEx || unit == ExpireUnit::kExAt;
  bool relative = unit == ExpireUnit::kEx || unit == ExpireUnit::kPx;
  if (v <= 0 || (seconds && v > INT64_MAX / 1000)) {
    ReplyInvalidExpire(ctx);
    return false;
  }
  if (seconds) v *= 1000;
  if (relative) {
    if (v > INT64_MAX - ctx.now_ms()) {
      ReplyInvalidExpire(ctx);
      return false;
    }
    v += ctx.now_ms();
  }
  *at = v;
  return true;
}

// The options after SET's value or GETEX's key.
struct StringOptions {
  bool nx = false;
  bool xx = false;
  bool get = false;
  bool keep_ttl = false;
  bool persist = false;
  ExpireUnit unit = ExpireUnit::kNone;
  std::string_view expire_arg;
};

enum class OptionsOf { kSet, kGetEx };

// Parses one expire token (EX/PX/EXAT/PXAT) at args[*i]. A repeated token of the same kind is
// allowed (the last wins); mixing kinds, or with KEEPTTL/PERSIST, is a syntax error.
bool ParseExpireToken(CommandContext& ctx, size_t* i, StringOptions* o) {
  static constexpr std::pair<std::string_view, ExpireUnit> kTokens[] = {
      {"ex", ExpireUnit::kEx},
      {"px", ExpireUnit::kPx},
      {"exat", ExpireUnit::kExAt},
      {"pxat", ExpireUnit::kPxAt}};
  std::string_view opt = ctx.arg(*i);
  for (const auto& [name, unit] : kTokens) {
    if (!EqualsIgnoreCase(opt, name)) continue;
    bool compatible =
        !o->keep_ttl && !o->persist && (o->unit == ExpireUnit::kNone || o->unit == unit);
    if (!compatible || *i + 1 >= ctx.argc()) return false;
    o->unit = unit;
    o->expire_arg = ctx.arg(++*i);
    return true;
  }
  return false;
}

// Parses the options from args[first] on; replies "ERR syntax error" and returns false on a bad
// or conflicting option.
bool ParseStringOptions(CommandContext& ctx, size_t first, OptionsOf cmd, StringOptions* o) {
  const bool set = cmd == OptionsOf::kSet;
  for (size_t i = first; i < ctx.argc(); ++i) {
    std::string_view opt = ctx.arg(i);
    bool ok = true;
    if (set && EqualsIgnoreCase(opt, "nx") && !o->xx) {
      o->nx = true;
    } else if (set && EqualsIgnoreCase(opt, "xx") && !o->nx) {
      o->xx = true;
    } else if (set && EqualsIgnoreCase(opt, "get")) {
      o->get = true;
    } else if (set && EqualsIgnoreCase(opt, "keepttl") && o->unit == ExpireUnit::kNone) {
      o->keep_ttl = true;
    } else if (!set && EqualsIgnoreCase(opt, "persist") && o->unit == ExpireUnit::kNone) {
      o->persist = true;
    } else {
      ok = ParseExpireToken(ctx, &i, o);
    }
    if (!ok) {
      ctx.Error(kErrSyntax);
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// GET, SET and their variants
// ---------------------------------------------------------------------------------------------

// GET key
void CmdGet(CommandContext& ctx) {
  Db db = ctx.db();
  Entry* e;
  Status s = ReadString(ctx, db, ctx.arg(1), &e);
  if (s == Status::kWrongType) return ctx.Error(kErrWrongType);
  if (e == nullptr) return ctx.out().Null();
  ctx.out().Bulk(e->str());
}

// The common tail of SET: the GET reply, the NX/XX condition, the write and the reply.
void SetGeneric(CommandContext& ctx, const StringOptions& o, int64_t expire_at) {
  Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  if (o.get) {
    Entry* old;
    if (ReadString(ctx, db, key, &old) == Status::kWrongType) return ctx.Error(kErrWrongType);
    // The old value is copied into the reply before the write can overwrite it in place.
    if (old == nullptr) {
      ctx.out().Null();
    } else {
      ctx.out().Bulk(old->str());
    }
  }
  if (o.nx || o.xx) {
    bool found = db.Find(key) != nullptr;
    if ((o.nx && found) || (o.xx && !found)) {
      if (!o.get) ctx.out().Null();
      return;
    }
  }
  db.SetString(key, ctx.arg(2), expire_at, o.keep_ttl);
  db.Touched(key);
  ctx.Notify(kNotifyString, "set", key);
  if (expire_at != 0) ctx.Notify(kNotifyGeneric, "expire", key);
  if (!o.get) ctx.out().Ok();
}

// SET key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|
//     PXAT unix-time-milliseconds|KEEPTTL]
void CmdSet(CommandContext& ctx) {
  StringOptions o;
  if (!ParseStringOptions(ctx, 3, OptionsOf::kSet, &o)) return;
  int64_t expire_at = 0;
  if (o.unit != ExpireUnit::kNone && !ExpireAtMs(ctx, o.expire_arg, o.unit, &expire_at)) return;
  SetGeneric(ctx, o, expire_at);
}

// SETNX key value
void CmdSetNx(CommandContext& ctx) {
  Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  if (db.Find(key) != nullptr) return ctx.out().Integer(0);
  db.SetString(key, ctx.arg(2));
  db.Touched(key);
  ctx.Notify(kNotifyString, "set", key);
  ctx.out().Integer(1);
}

// Shared by SETEX key seconds value and PSETEX key milliseconds value.
void SetWithExpire(CommandContext& ctx, ExpireUnit unit) {
  int64_t expire_at;
  if (!ExpireAtMs(ctx, ctx.arg(2), unit, &expire_at)) return;
  Db db = ctx.db();
  db.SetString(ctx.arg(1), ctx.arg(3), expire_at);
  db.Touched(ctx.arg(1));
  ctx.Notify(kNotifyString, "set", ctx.arg(1));
  ctx.Notify(kNotifyGeneric, "expire", ctx.arg(1));
  ctx.out().Ok();
}

// SETEX key seconds value
void CmdSetEx(CommandContext& ctx) { SetWithExpire(ctx, ExpireUnit::kEx); }

// PSETEX key milliseconds value
void CmdPSetEx(CommandContext& ctx) { SetWithExpire(ctx, ExpireUnit::kPx); }

// GETSET key value
void CmdGetSet(CommandContext& ctx) {
  Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  Entry* old;
  if (ReadString(ctx, db, key, &old) == Status::kWrongType) return ctx.Error(kErrWrongType);
  if (old == nullptr) {
    ctx.out().Null();
  } else {
    ctx.out().Bulk(old->str());
  }
  db.SetString(key, ctx.arg(2));  // like SET, drops the TTL
  db.Touched(key);
  ctx.Notify(kNotifyString, "set", key);
}

// GETDEL key
void CmdGetDel(CommandContext& ctx) {
  Db db = ctx.db();
  Entry* e;
  if (ReadString(ctx, db, ctx.arg(1), &e) == Status::kWrongType) return ctx.Error(kErrWrongType);
  if (e == nullptr) return ctx.out().Null();
  ctx.out().Bulk(e->str());
  db.Delete(e);
  db.Touched(ctx.arg(1));
  ctx.Notify(kNotifyGeneric, "del", ctx.arg(1));
}

// Applies GETEX's expire option to `e`, whose value has been replied already. An absolute time
// already past deletes the key, as Redis does.
void ApplyGetExOption(CommandContext& ctx, Db& db, Entry* e, const StringOptions& o,
                      int64_t expire_at) {
  bool absolute = o.unit == ExpireUnit::kExAt || o.unit == ExpireUnit::kPxAt;
  std::string_view event;
  if (absolute && expire_at <= ctx.now_ms()) {
    db.Delete(e);
    event = "del";
  } else if (o.unit != ExpireUnit::kNone) {
    db.SetExpireAt(e, expire_at);
    event = "expire";
  } else if (o.persist && e->has_ttl()) {
    db.SetExpireAt(e, 0);
    event = "persist";
  } else {
    return;
  }
  db.Touched(ctx.arg(1));
  ctx.Notify(kNotifyGeneric, event, ctx.arg(1));
}

// GETEX key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]
void CmdGetEx(CommandContext& ctx) {
  StringOptions o;
  if (!ParseStringOptions(ctx, 2, OptionsOf::kGetEx, &o)) return;
  Db db = ctx.db();
  Entry* e;
  if (ReadString(ctx, db, ctx.arg(1), &e) == Status::kWrongType) return ctx.Error(kErrWrongType);
  if (e == nullptr) return ctx.out().Null();
  // Like Redis, the expire time is checked only once the key is known to be a string.
  int64_t expire_at = 0;
  if (o.unit != ExpireUnit::kNone && !ExpireAtMs(ctx, o.expire_arg, o.unit, &expire_at)) return;
  ctx.out().Bulk(e->str());
  ApplyGetExOption(ctx, db, e, o, expire_at);
}

// ---------------------------------------------------------------------------------------------
// MGET, MSET, MSETNX
// ---------------------------------------------------------------------------------------------

// MGET key [key ...]
void CmdMGet(CommandContext& ctx) {
  Db db = ctx.db();
  ctx.out().ArrayHeader(static_cast<int64_t>(ctx.argc() - 1));
  for (size_t i = 1; i < ctx.argc(); ++i) {
    Entry* e;
    if (ReadString(ctx, db, ctx.arg(i), &e) == Status::kOk) {
      ctx.out().Bulk(e->str());
    } else {
      ctx.out().Null();  // missing, or not a string
    }
  }
}

void SetPairs(CommandContext& ctx, Db& db) {
  for (size_t i = 1; i + 1 < ctx.argc(); i += 2) {
    db.SetString(ctx.arg(i), ctx.arg(i + 1));
    db.Touched(ctx.arg(i));
    ctx.Notify(kNotifyString, "set", ctx.arg(i));
  }
}

// MSET key value [key value ...]
void CmdMSet(CommandContext& ctx) {
  if (ctx.argc() % 2 == 0) return ctx.Error(WrongArgs(ctx.spec()->name));
  Db db = ctx.db();
  SetPairs(ctx, db);
  ctx.out().Ok();
}

// MSETNX key value [key value ...]
void CmdMSetNx(CommandContext& ctx) {
  if (ctx.argc() % 2 == 0) return ctx.Error(WrongArgs(ctx.spec()->name));
  Db db = ctx.db();
  for (size_t i = 1; i < ctx.argc(); i += 2) {
    if (db.Find(ctx.arg(i)) != nullptr) return ctx.out().Integer(0);
  }
  SetPairs(ctx, db);
  ctx.out().Integer(1);
}

// ---------------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------------

// Adds `delta` to the integer at key 1 (0 if missing), keeping its TTL. Formats the result on
// the stack: no heap allocation on this path.
void IncrBy(CommandContext& ctx, int64_t delta) {
  Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  Entry* e;
  if (!FindStringForWrite(ctx, db, key, &e)) return;
  int64_t value = 0;
  if (e != nullptr && !ParseInt64(e->str(), &value)) return ctx.Error(kErrNotInteger);
  if (__builtin_add_overflow(value, delta, &value)) return ctx.Error(kErrOverflow);
  char buf[24];
  std::string_view text(buf, FormatInt64(value, buf));
  if (e != nullptr) {
    db.UpdateString(e, text);
  } else {
    db.SetString(key, text);
  }
  db.Touched(key);
  ctx.Notify(kNotifyString, "incrby", key);
  ctx.out().Integer(value);
}

// INCR key
void CmdIncr(CommandContext& ctx) { IncrBy(ctx, 1); }

// DECR key
void CmdDecr(CommandContext& ctx) { IncrBy(ctx, -1); }

// INCRBY key increment
void CmdIncrBy(CommandContext& ctx) {
  int64_t delta;
  if (!ParseIntArg(ctx, 2, &delta)) return;
  IncrBy(ctx, delta);
}

// DECRBY key decrement
void CmdDecrBy(CommandContext& ctx) {
  int64_t delta;
  if (!ParseIntArg(ctx, 2, &delta)) return;
  if (delta == INT64_MIN) return ctx.Error(kErrDecrOverflow);
  IncrBy(ctx, -delta);
}

// INCRBYFLOAT key increment
void CmdIncrByFloat(CommandContext& ctx) {
  Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  Entry* e;
  if (!FindStringForWrite(ctx, db, key, &e)) return;
  long double value = 0;
  long double incr;
  if ((e != nullptr && !ParseLongDoubleOperand(e->str(), &value)) ||
      !ParseLongDoubleOperand(ctx.arg(2), &incr)) {
    return ctx.Error(kErrNotFloat);
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) return ctx.Error(kErrNanOrInf);
  std::string text = FormatLongDouble(value);
  e = e != nullptr ? db.UpdateString(e, text) : db.SetString(key, text);
  // Redis stores the result as a plain string, never integer-encoded.
  if (e->encoding == Encoding::kInt) e->encoding = Encoding::kEmbStr;
  db.Touched(key);
  ctx.Notify(kNotifyString, "incrbyfloat", key);
  ctx.out().Bulk(text);
}

// ---------------------------------------------------------------------------------------------
// Byte ranges: APPEND, STRLEN, GETRANGE, SETRANGE
// ---------------------------------------------------------------------------------------------

// APPEND key value
void CmdAppend(CommandContext& ctx) {
  Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  std::string_view suffix = ctx.arg(2);
  Entry* e;
  if (!FindStringForWrite(ctx, db, key, &e)) return;
  if (e == nullptr) {
    e = db.SetString(key, suffix);
  } else {
    if (!CheckStringLength(ctx, e->str().size(), suffix.size())) return;
    std::string value;
    value.reserve(e->str().size() + suffix.size());
    value.append(e->str()).append(suffix);
    e = db.UpdateString(e, value);
    e->encoding = Encoding::kRaw;  // as Redis: an appended-to string is never shared or int
  }
  db.Touched(key);
  ctx.Notify(kNotifyString, "append", key);
  ctx.out().Integer(static_cast<int64_t>(e->str().size()));
}

// STRLEN key
void CmdStrLen(CommandContext& ctx) {
  Db db = ctx.db();
  Entry* e;
  if (ReadString(ctx, db, ctx.arg(1), &e) == Status::kWrongType) return ctx.Error(kErrWrongType);
  ctx.out().Integer(e == nullptr ? 0 : static_cast<int64_t>(e->str().size()));
}

// Turns GETRANGE's inclusive [start, end] (negative counts from the end) into a substring of
// `s`; empty when the clamped range is empty.
std::string_view Substring(std::string_view s, int64_t start, int64_t end) {
  const int64_t len = static_cast<int64_t>(s.size());
  if (start < 0 && end < 0 && start > end) return {};
  if (start < 0) start = std::max<int64_t>(0, len + start);
  if (end < 0) end = std::max<int64_t>(0, len + end);
  end = std::min(end, len - 1);
  if (len == 0 || start > end) return {};
  return s.substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1));
}

// GETRANGE key start end (and SUBSTR key start end)
void CmdGetRange(CommandContext& ctx) {
  int64_t start, end;
  if (!ParseIntArg(ctx, 2, &start) || !ParseIntArg(ctx, 3, &end)) return;
  Db db = ctx.db();
  Entry* e;
  if (ReadString(ctx, db, ctx.arg(1), &e) == Status::kWrongType) return ctx.Error(kErrWrongType);
  ctx.out().Bulk(e == nullptr ? std::string_view() : Substring(e->str(), start, end));
}

// Writes `value` at `offset` of the existing string `e`, zero-padding; returns the entry.
Entry* OverwriteRange(Db& db, Entry* e, uint64_t offset, std::string_view value) {
  const uint64_t new_len = std::max<uint64_t>(e->str().size(), offset + value.size());
  if (new_len == e->str().size()) {
    std::memcpy(e->mutable_str() + offset, value.data(), value.size());
    return e;
  }
  std::string grown(e->str());
  grown.resize(new_len, '\0');
  grown.replace(offset, value.size(), value);
  return db.UpdateString(e, grown);
}

// SETRANGE key offset value
void CmdSetRange(CommandContext& ctx) {
  int64_t offset;
  if (!ParseIntArg(ctx, 2, &offset)) return;
  if (offset < 0) return ctx.Error(kErrOffsetRange);
  Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  std::string_view value = ctx.arg(3);
  Entry* e;
  if (!FindStringForWrite(ctx, db, key, &e)) return;
  const int64_t old_len = e == nullptr ? 0 : static_cast<int64_t>(e->str().size());
  // Writing nothing changes nothing, and creates no key.
  if (value.empty()) return ctx.out().Integer(old_len);
  if (!CheckStringLength(ctx, static_cast<uint64_t>(offset), value.size())) return;
  if (e == nullptr) {
    std::string fresh(static_cast<size_t>(offset), '\0');
    fresh.append(value);
    e = db.SetString(key, fresh);
  } else {
    e = OverwriteRange(db, e, static_cast<uint64_t>(offset), value);
  }
  e->encoding = Encoding::kRaw;  // as Redis: a range-written string is never shared or int
  db.Touched(key);
  ctx.Notify(kNotifyString, "setrange", key);
  ctx.out().Integer(static_cast<int64_t>(e->str().size()));
}

// ---------------------------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------------------------

struct LcsOptions {
  bool len = false;
  bool idx = false;
  bool with_match_len = false;
  int64_t min_match_len = 0;
};

bool ParseLcsOptions(CommandContext& ctx, LcsOptions* o) {
  for (size_t i = 3; i < ctx.argc(); ++i) {
    std::string_view opt = ctx.arg(i);
    if (EqualsIgnoreCase(opt, "idx")) {
      o->idx = true;
    } else if (EqualsIgnoreCase(opt, "len")) {
      o->len = true;
    } else if (EqualsIgnoreCase(opt, "withmatchlen")) {
      o->with_match_len = true;
    } else if (EqualsIgnoreCase(opt, "minmatchlen") && i + 1 < ctx.argc()) {
      if (!ParseIntArg(ctx, ++i, &o->min_match_len)) return false;
    } else {
      ctx.Error(kErrSyntax);
      return false;
    }
  }
  if (o->idx && o->len) {
    ctx.Error(kErrLcsLenAndIdx);
    return false;
  }
  return true;
}

// The dynamic-programming table of LCS lengths: at(i, j) is the length of the longest common
// subsequence of a[0..i) and b[0..j).
class LcsTable {
 public:
  LcsTable(std::string_view a, std::string_view b) : a_(a), b_(b), width_(b.size() + 1) {}

  // Allocates and fills the table; false if the memory is not available.
  bool Fill() {
    cells_.reset(new (std::nothrow) uint32_t[(a_.size() + 1) * width_]);
    if (!cells_) return false;
    for (size_t i = 0; i <= a_.size(); ++i) {
      for (size_t j = 0; j <= b_.size(); ++j) {
        uint32_t& c = cells_[i * width_ + j];
        if (i == 0 || j == 0) {
          c = 0;
        } else if (a_[i - 1] == b_[j - 1]) {
          c = at(i - 1, j - 1) + 1;
        } else {
          c = std::max(at(i - 1, j), at(i, j - 1));
        }
      }
    }
    return true;
  }
  uint32_t at(size_t i, size_t j) const { return cells_[i * width_ + j]; }

 private:
  std::string_view a_, b_;
  size_t width_;
  std::unique_ptr<uint32_t[]> cells_;
};

// One run of consecutive common bytes: a[a_start..a_end] == b[b_start..b_end].
struct LcsMatch {
  size_t a_start, a_end, b_start, b_end;
  size_t len() const { return a_end - a_start + 1; }
};

// Walks the table back from the end, building the common subsequence (if `text`) and the runs
// of at least `min_len` bytes (if `matches`), last run first as Redis reports them. On a tie it
// steps back in b, as Redis does, so the reported runs are the same.
void LcsWalk(const LcsTable& t, std::string_view a, std::string_view b, int64_t min_len,
             std::string* text, std::vector<LcsMatch>* matches) {
  size_t i = a.size(), j = b.size(), k = t.at(i, j);
  if (text != nullptr) text->assign(k, '\0');
  bool in_run = false;
  LcsMatch run{};
  while (i > 0 && j > 0) {
    bool run_ends = false;
    if (a[i - 1] == b[j - 1]) {
      if (text != nullptr) (*text)[--k] = a[i - 1];
      if (!in_run) {
        run.a_end = i - 1;
        run.b_end = j - 1;
        in_run = true;
      }
      run.a_start = --i;
      run.b_start = --j;
      run_ends = i == 0 || j == 0;
    } else {
      if (t.at(i - 1, j) > t.at(i, j - 1)) {
        --i;
      } else {
        --j;
      }
      run_ends = in_run;
    }
    if (!run_ends) continue;
    if (matches != nullptr && static_cast<int64_t>(run.len()) >= min_len) matches->push_back(run);
    in_run = false;
  }
}

void ReplyLcsMatches(CommandContext& ctx, const std::vector<LcsMatch>& matches, uint32_t len,
                     bool with_match_len) {
  resp::ReplyWriter& out = ctx.out();
  out.MapHeader(2);
  out.Bulk("matches");
  out.ArrayHeader(static_cast<int64_t>(matches.size()));
  for (const LcsMatch& m : matches) {
    out.ArrayHeader(with_match_len ? 3 : 2);
    out.ArrayHeader(2);
    out.Integer(static_cast<int64_t>(m.a_start));
    out.Integer(static_cast<int64_t>(m.a_end));
    out.ArrayHeader(2);
    out.Integer(static_cast<int64_t>(m.b_start));
    out.Integer(static_cast<int64_t>(m.b_end));
    if (with_match_len) out.Integer(static_cast<int64_t>(m.len()));
  }
  out.Bulk("len");
  out.Integer(len);
}

// False (after an error reply) if the table for strings of these lengths is too big: longer
// than 32-bit lengths allow, or above proto-max-bulk-len bytes, as Redis limits it.
bool CheckLcsSize(CommandContext& ctx, size_t a_len, size_t b_len) {
  if (a_len >= UINT32_MAX - 1 || b_len >= UINT32_MAX - 1) {
    ctx.Error(kErrLcsTooLong);
    return false;
  }
  unsigned __int128 bytes = static_cast<unsigned __int128>(a_len + 1) * (b_len + 1) * 4;
  if (bytes > static_cast<unsigned __int128>(GlobalConfig().proto_max_bulk_len.load())) {
    ctx.Error(kErrLcsMemory);
    return false;
  }
  return true;
}

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
void CmdLcs(CommandContext& ctx) {
  Db db = ctx.db();
  Entry *ea, *eb;
  Status sa = ReadString(ctx, db, ctx.arg(1), &ea);
  Status sb = ReadString(ctx, db, ctx.arg(2), &eb);
  if (sa == Status::kWrongType || sb == Status::kWrongType) return ctx.Error(kErrLcsType);
  LcsOptions o;
  if (!ParseLcsOptions(ctx, &o)) return;
  std::string_view a = ea == nullptr ? std::string_view() : ea->str();
  std::string_view b = eb == nullptr ? std::string_view() : eb->str();
  if (!CheckLcsSize(ctx, a.size(), b.size())) return;
  LcsTable table(a, b);
  if (!table.Fill()) return ctx.Error(kErrLcsMemory);
  const uint32_t len = table.at(a.size(), b.size());
  if (o.len) return ctx.out().Integer(len);
  if (o.idx) {
    std::vector<LcsMatch> matches;
    LcsWalk(table, a, b, o.min_match_len, nullptr, &matches);
    return ReplyLcsMatches(ctx, matches, len, o.with_match_len);
  }
  std::string text;
  LcsWalk(table, a, b, 0, &text, nullptr);
  ctx.out().Bulk(text);
}

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

constexpr uint32_t kReadCats = kCatRead | kCatString;
constexpr uint32_t kWriteCats = kCatWrite | kCatString;
constexpr KeySpec kOneKey = {1, 1, 1};

// The rows are kept packed, one command per paragraph, so the table reads as a table.
// clang-format off
void AddGetSet(CommandTable& t) {
  t.Add({.name = "get", .arity = 2, .flags = kReadOnly | kFast,
         .categories = kReadCats | kCatFast, .keys = kOneKey, .group = "string",
         .since = "1.0.0", .summary = "Returns the string value of a key.",
         .syntax = "key", .handler = CmdGet});
  t.Add({.name = "set", .arity = -3, .flags = kWrite | kDenyOom,
         .categories = kWriteCats | kCatSlow, .keys = kOneKey, .group = "string",
         .since = "1.0.0", .summary = "Sets the string value of a key, ignoring its type. The key "
                                      "is created if it doesn't exist.",
         .syntax = "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
                   "PXAT unix-time-milliseconds|KEEPTTL]",
         .handler = CmdSet});
  t.Add({.name = "setnx", .arity = 3, .flags = kWrite | kDenyOom | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "string",
         .since = "1.0.0", .summary = "Set the string value of a key only when the key doesn't "
                                      "exist.",
         .syntax = "key value", .handler = CmdSetNx});
  t.Add({.name = "setex", .arity = 4, .flags = kWrite | kDenyOom,
         .categories = kWriteCats | kCatSlow, .keys = kOneKey, .group = "string",
         .since = "2.0.0", .summary = "Sets the string value and expiration time of a key. Creates "
                                      "the key if it doesn't exist.",
         .syntax = "key seconds value", .handler = CmdSetEx});
  t.Add({.name = "psetex", .arity = 4, .flags = kWrite | kDenyOom,
         .categories = kWriteCats | kCatSlow, .keys = kOneKey, .group = "string",
         .since = "2.6.0", .summary = "Sets both string value and expiration time in milliseconds "
                                      "of a key. The key is created if it doesn't exist.",
         .syntax = "key milliseconds value", .handler = CmdPSetEx});
  t.Add({.name = "getset", .arity = 3, .flags = kWrite | kDenyOom | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "string",
         .since = "1.0.0", .summary = "Returns the previous string value of a key after setting "
                                      "it to a new value.",
         .syntax = "key value", .handler = CmdGetSet});
  t.Add({.name = "getdel", .arity = 2, .flags = kWrite | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "string",
         .since = "6.2.0", .summary = "Returns the string value of a key after deleting the key.",
         .syntax = "key", .handler = CmdGetDel});
  t.Add({.name = "getex", .arity = -2, .flags = kWrite | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "string",
         .since = "6.2.0", .summary = "Returns the string value of a key after setting its "
                                      "expiration time.",
         .syntax = "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
                   "PXAT unix-time-milliseconds|PERSIST]",
         .handler = CmdGetEx});
}

void AddMultiKey(CommandTable& t) {
  t.Add({.name = "mget", .arity = -2, .flags = kReadOnly | kFast,
         .categories = kReadCats | kCatFast, .keys = {1, -1, 1}, .group = "string",
         .since = "1.0.0", .summary = "Atomically returns the string values of one or more keys.",
         .syntax = "key [key ...]", .handler = CmdMGet});
  t.Add({.name = "mset", .arity = -3, .flags = kWrite | kDenyOom | kKeysIndependent,
         .categories = kWriteCats | kCatSlow, .keys = {1, -1, 2}, .group = "string",
         .since = "1.0.1", .summary = "Atomically creates or modifies the string values of one "
                                      "or more keys.",
         .syntax = "key value [key value ...]", .handler = CmdMSet});
  t.Add({.name = "msetnx", .arity = -3, .flags = kWrite | kDenyOom | kKeysIndependent,
         .categories = kWriteCats | kCatSlow, .keys = {1, -1, 2}, .group = "string",
         .since = "1.0.1", .summary = "Atomically modifies the string values of one or more keys "
                                      "only when all keys don't exist.",
         .syntax = "key value [key value ...]", .handler = CmdMSetNx});
}

void AddCounters(CommandTable& t) {
  constexpr uint32_t kFlags = kWrite | kDenyOom | kFast;
  constexpr uint32_t kCats = kWriteCats | kCatFast;
  t.Add({.name = "incr", .arity = 2, .flags = kFlags, .categories = kCats, .keys = kOneKey,
         .group = "string", .since = "1.0.0",
         .summary = "Increments the integer value of a key by one. Uses 0 as initial value if "
                    "the key doesn't exist.",
         .syntax = "key", .handler = CmdIncr});
  t.Add({.name = "decr", .arity = 2, .flags = kFlags, .categories = kCats, .keys = kOneKey,
         .group = "string", .since = "1.0.0",
         .summary = "Decrements the integer value of a key by one. Uses 0 as initial value if "
                    "the key doesn't exist.",
         .syntax = "key", .handler = CmdDecr});
  t.Add({.name = "incrby", .arity = 3, .flags = kFlags, .categories = kCats, .keys = kOneKey,
         .group = "string", .since = "1.0.0",
         .summary = "Increments the integer value of a key by a number. Uses 0 as initial value "
                    "if the key doesn't exist.",
         .syntax = "key increment", .handler = CmdIncrBy});
  t.Add({.name = "decrby", .arity = 3, .flags = kFlags, .categories = kCats, .keys = kOneKey,
         .group = "string", .since = "1.0.0",
         .summary = "Decrements a number from the integer value of a key. Uses 0 as initial "
                    "value if the key doesn't exist.",
         .syntax = "key decrement", .handler = CmdDecrBy});
  t.Add({.name = "incrbyfloat", .arity = 3, .flags = kFlags, .categories = kCats,
         .keys = kOneKey, .group = "string", .since = "2.6.0",
         .summary = "Increment the floating point value of a key by a number. Uses 0 as initial "
                    "value if the key doesn't exist.",
         .syntax = "key increment:double", .handler = CmdIncrByFloat});
}

void AddRanges(CommandTable& t) {
  t.Add({.name = "append", .arity = 3, .flags = kWrite | kDenyOom | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "string",
         .since = "2.0.0", .summary = "Appends a string to the value of a key. Creates the key "
                                      "if it doesn't exist.",
         .syntax = "key value", .handler = CmdAppend});
  t.Add({.name = "strlen", .arity = 2, .flags = kReadOnly | kFast,
         .categories = kReadCats | kCatFast, .keys = kOneKey, .group = "string",
         .since = "2.2.0", .summary = "Returns the length of a string value.",
         .syntax = "key", .handler = CmdStrLen});
  t.Add({.name = "getrange", .arity = 4, .flags = kReadOnly,
         .categories = kReadCats | kCatSlow, .keys = kOneKey, .group = "string",
         .since = "2.4.0", .summary = "Returns a substring of the string stored at a key.",
         .syntax = "key start end", .handler = CmdGetRange});
  t.Add({.name = "substr", .arity = 4, .flags = kReadOnly,
         .categories = kReadCats | kCatSlow, .keys = kOneKey, .group = "string",
         .since = "1.0.0", .summary = "Returns a substring from a string value.",
         .syntax = "key start end", .handler = CmdGetRange});
  t.Add({.name = "setrange", .arity = 4, .flags = kWrite | kDenyOom,
         .categories = kWriteCats | kCatSlow, .keys = kOneKey, .group = "string",
         .since = "2.2.0", .summary = "Overwrites a part of a string value with another by an "
                                      "offset. Creates the key if it doesn't exist.",
         .syntax = "key offset value", .handler = CmdSetRange});
  t.Add({.name = "lcs", .arity = -3, .flags = kReadOnly,
         .categories = kReadCats | kCatSlow, .keys = {1, 2, 1}, .group = "string",
         .since = "7.0.0", .summary = "Finds the longest common substring.",
         .syntax = "key1:key key2:key [LEN] [IDX] [MINMATCHLEN min-match-len:integer] "
                   "[WITHMATCHLEN]",
         .handler = CmdLcs});
}
// clang-format on

}  // namespace

void RegisterStrings(CommandTable& t) {
  AddGetSet(t);
  AddMultiKey(t);
  AddCounters(t);
  AddRanges(t);
}

}  // namespace runnel::commands
