// The blocking list commands: BLPOP, BRPOP, BLMPOP, BLMOVE and BRPOPLPUSH. Each serves at once
// when a list has elements; otherwise it calls CommandContext::Block with its own arguments and
// the dispatcher re-runs it (is_retry) when one of its keys is written, on the writer's thread,
// in the order clients blocked. A served command logs the pop or move it did, never itself, so
// replaying the log never blocks. Inside MULTI nothing blocks: EXEC replies null instead.
#include <string>
#include <string_view>
#include <vector>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/lists_common.h"
#include "commands/table.h"
#include "engine/keyspace.h"
#include "engine/list.h"

namespace runnel::commands::lists {

namespace {

std::vector<std::string> ArgsOf(CommandContext& ctx) {
  return std::vector<std::string>(ctx.args().begin(), ctx.args().end());
}

// BLPOP / BRPOP key [key ...] timeout
void BlockingPop(CommandContext& ctx, ListEnd end) {
  int64_t timeout_ms;
  if (!ParseTimeout(ctx, ctx.arg(ctx.argc() - 1), &timeout_ms)) return;
  engine::Db db = ctx.db();
  for (size_t k = 1; k + 1 < ctx.argc(); ++k) {
    std::string_view key = ctx.arg(k);
    engine::Entry* e = db.Find(key);
    if (e == nullptr) continue;
    if (e->type != engine::ValueType::kList) {
      if (ctx.is_retry()) continue;  // a blocked client waits for lists only
      return ctx.Error(kErrWrongType);
    }
    ctx.out().ArrayHeader(2);
    ctx.out().Bulk(key);
    return PopOneReply(ctx, db, key, static_cast<List*>(e->object()), end, true);
  }
  std::vector<std::string> keys(ctx.args().begin() + 1, ctx.args().end() - 1);
  ctx.Block(std::move(keys), timeout_ms, ArgsOf(ctx));
}

void CmdBLPop(CommandContext& ctx) { BlockingPop(ctx, ListEnd::kHead); }
void CmdBRPop(CommandContext& ctx) { BlockingPop(ctx, ListEnd::kTail); }

// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
void CmdBLMPop(CommandContext& ctx) {
  MultiPopArgs a;
  if (!ParseMultiPop(ctx, 2, &a)) return;
  int64_t timeout_ms;
  if (!ParseTimeout(ctx, ctx.arg(1), &timeout_ms)) return;
  engine::Db db = ctx.db();
  if (MultiPop(ctx, db, a)) return;
  auto first = ctx.args().begin() + static_cast<ptrdiff_t>(a.first_key);
  std::vector<std::string> keys(first, first + static_cast<ptrdiff_t>(a.nkeys));
  ctx.Block(std::move(keys), timeout_ms, ArgsOf(ctx));
}

// Moves like LMOVE, or blocks on `source` until it has an element.
void BlockingMove(CommandContext& ctx, ListEnd from, ListEnd to, std::string_view timeout) {
  int64_t timeout_ms;
  if (!ParseTimeout(ctx, timeout, &timeout_ms)) return;
  engine::Db db = ctx.db();
  if (Move(ctx, db, ctx.arg(1), ctx.arg(2), from, to, true) != MoveResult::kEmpty) return;
  if (ctx.in_exec()) return ctx.out().Null();  // Redis replies a null bulk here, not an array
  ctx.Block({std::string(ctx.arg(1))}, timeout_ms, ArgsOf(ctx));
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
void CmdBLMove(CommandContext& ctx) {
  ListEnd from, to;
  if (!ParseEnd(ctx, ctx.arg(3), &from) || !ParseEnd(ctx, ctx.arg(4), &to)) return;
  BlockingMove(ctx, from, to, ctx.arg(5));
}

// BRPOPLPUSH source destination timeout
void CmdBRPopLPush(CommandContext& ctx) {
  BlockingMove(ctx, ListEnd::kTail, ListEnd::kHead, ctx.arg(3));
}

}  // namespace

// clang-format off
void RegisterBlockingCommands(CommandTable& t) {
  constexpr uint32_t kCats = kCatWrite | kCatList | kCatSlow | kCatBlocking;
  t.Add({.name = "blpop", .arity = -3, .flags = kWrite | kNoScript | kBlocking,
         .categories = kCats, .keys = {1, -2, 1}, .group = "list", .since = "2.0.0",
         .summary = "Removes and returns the first element in a list. Blocks until an element "
                    "is available otherwise. Deletes the list if the last element was popped.",
         .syntax = "key [key ...] timeout:double", .handler = CmdBLPop});
  t.Add({.name = "brpop", .arity = -3, .flags = kWrite | kNoScript | kBlocking,
         .categories = kCats, .keys = {1, -2, 1}, .group = "list", .since = "2.0.0",
         .summary = "Removes and returns the last element in a list. Blocks until an element "
                    "is available otherwise. Deletes the list if the last element was popped.",
         .syntax = "key [key ...] timeout:double", .handler = CmdBRPop});
  t.Add({.name = "blmpop", .arity = -5, .flags = kWrite | kBlocking, .categories = kCats,
         .keys = {0, 0, 0}, .group = "list", .since = "7.0.0",
         .summary = "Pops the first element from one of multiple lists. Blocks until an element "
                    "is available otherwise. Deletes the list if the last element was popped.",
         .syntax = "timeout:double numkeys key [key ...] where [COUNT count]",
         .handler = CmdBLMPop, .key_finder = BlmpopKeys});
  t.Add({.name = "blmove", .arity = 6, .flags = kWrite | kDenyOom | kNoScript | kBlocking,
         .categories = kCats, .keys = {1, 2, 1}, .group = "list", .since = "6.2.0",
         .summary = "Pops an element from a list, pushes it to another list and returns it. "
                    "Blocks until an element is available otherwise. Deletes the list if the "
                    "last element was moved.",
         .syntax = "source destination wherefrom whereto timeout:double",
         .handler = CmdBLMove});
  t.Add({.name = "brpoplpush", .arity = 4, .flags = kWrite | kDenyOom | kNoScript | kBlocking,
         .categories = kCats, .keys = {1, 2, 1}, .group = "list", .since = "2.2.0",
         .summary = "Pops an element from a list, pushes it to another list and returns it. "
                    "Block until an element is available otherwise. Deletes the list if the "
                    "last element was popped.",
         .syntax = "source destination timeout:double", .handler = CmdBRPopLPush});
}
// clang-format on

}  // namespace runnel::commands::lists
