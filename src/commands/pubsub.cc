// Pub/Sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE SSUBSCRIBE SUNSUBSCRIBE PUBLISH
// SPUBLISH PUBSUB. The registry and the delivery across threads are the server's (pubsub.h);
// here are the replies and each connection's own subscription sets.
#include "commands/pubsub.h"

#include "commands/errors.h"
#include "commands/table.h"
#include "common/util.h"

namespace runnel::commands {

namespace {

constexpr int kChannels = 0, kPatterns = 1, kShards = 2;
constexpr const char* kSubscribeName[] = {"subscribe", "psubscribe", "ssubscribe"};
constexpr const char* kUnsubscribeName[] = {"unsubscribe", "punsubscribe", "sunsubscribe"};

// The count a (un)subscribe reply carries: channels and patterns together, shard channels alone.
int64_t CountFor(const Session& s, int kind) {
  return kind == kShards ? static_cast<int64_t>(s.subscriptions[kShards].size())
                         : static_cast<int64_t>(s.subscriptions[kChannels].size() +
                                                s.subscriptions[kPatterns].size());
}

void ReplyEvent(resp::ReplyWriter& out, const char* event, const std::string* name, int64_t count) {
  out.PushHeader(3);
  out.Bulk(event);
  if (name != nullptr) {
    out.Bulk(*name);
  } else {
    out.Null();
  }
  out.Integer(count);
}

void Unsubscribe(ServerApi& server, Session& s, int kind, const std::string& name,
                 resp::ReplyWriter* out) {
  server.Unsubscribe(s, kind, name);
  s.subscriptions[kind].erase(name);
  s.subscription_count[kind].store(static_cast<int>(s.subscriptions[kind].size()));
  if (out != nullptr) ReplyEvent(*out, kUnsubscribeName[kind], &name, CountFor(s, kind));
}

void UnsubscribeKind(ServerApi& server, Session& s, int kind, resp::ReplyWriter* out) {
  if (s.subscriptions[kind].empty()) {
    if (out != nullptr) ReplyEvent(*out, kUnsubscribeName[kind], nullptr, CountFor(s, kind));
    return;
  }
  std::vector<std::string> names(s.subscriptions[kind].begin(), s.subscriptions[kind].end());
  for (const std::string& name : names) Unsubscribe(server, s, kind, name, out);
}

// SUBSCRIBE channel [channel ...] (and PSUBSCRIBE, SSUBSCRIBE)
void SubscribeGeneric(CommandContext& ctx, int kind) {
  Session& s = ctx.session();
  for (size_t i = 1; i < ctx.argc(); ++i) {
    std::string name(ctx.arg(i));
    if (s.subscriptions[kind].insert(name).second) ctx.server().Subscribe(s, kind, name);
    s.subscription_count[kind].store(static_cast<int>(s.subscriptions[kind].size()));
    ReplyEvent(ctx.out(), kSubscribeName[kind], &name, CountFor(s, kind));
  }
}

// UNSUBSCRIBE [channel ...] (and PUNSUBSCRIBE, SUNSUBSCRIBE)
void UnsubscribeGeneric(CommandContext& ctx, int kind) {
  Session& s = ctx.session();
  if (ctx.argc() == 1) {
    UnsubscribeKind(ctx.server(), s, kind, &ctx.out());
    return;
  }
  for (size_t i = 1; i < ctx.argc(); ++i)
    Unsubscribe(ctx.server(), s, kind, std::string(ctx.arg(i)), &ctx.out());
}

void CmdSubscribe(CommandContext& ctx) { SubscribeGeneric(ctx, kChannels); }
void CmdPSubscribe(CommandContext& ctx) { SubscribeGeneric(ctx, kPatterns); }
void CmdSSubscribe(CommandContext& ctx) { SubscribeGeneric(ctx, kShards); }
void CmdUnsubscribe(CommandContext& ctx) { UnsubscribeGeneric(ctx, kChannels); }
void CmdPUnsubscribe(CommandContext& ctx) { UnsubscribeGeneric(ctx, kPatterns); }
void CmdSUnsubscribe(CommandContext& ctx) { UnsubscribeGeneric(ctx, kShards); }

// PUBLISH channel message
void CmdPublish(CommandContext& ctx) {
  ctx.out().Integer(ctx.server().Publish(kChannels, ctx.arg(1), ctx.arg(2)));
}

// SPUBLISH shardchannel message
void CmdSPublish(CommandContext& ctx) {
  ctx.out().Integer(ctx.server().Publish(kShards, ctx.arg(1), ctx.arg(2)));
}

// PUBSUB CHANNELS [pattern] / SHARDCHANNELS [pattern]
void ReplyChannels(CommandContext& ctx, int kind) {
  if (ctx.argc() > 3) {
    ctx.Error(WrongArgs(kind == kShards ? "pubsub|shardchannels" : "pubsub|channels"));
    return;
  }
  auto names = ctx.server().PubSubChannels(kind, ctx.argc() == 3 ? ctx.arg(2) : "");
  ctx.out().ArrayHeader(static_cast<int64_t>(names.size()));
  for (auto& n : names) ctx.out().Bulk(n);
}
void CmdPubSubChannels(CommandContext& ctx) { ReplyChannels(ctx, kChannels); }
void CmdPubSubShardChannels(CommandContext& ctx) { ReplyChannels(ctx, kShards); }

// PUBSUB NUMSUB [channel ...] / SHARDNUMSUB [shardchannel ...]
void ReplyNumSub(CommandContext& ctx, int kind) {
  ctx.out().MapHeader(static_cast<int64_t>(ctx.argc() - 2));
  for (size_t i = 2; i < ctx.argc(); ++i) {
    ctx.out().Bulk(ctx.arg(i));
    ctx.out().Integer(ctx.server().PubSubSubscribers(kind, std::string(ctx.arg(i))));
  }
}
void CmdPubSubNumSub(CommandContext& ctx) { ReplyNumSub(ctx, kChannels); }
void CmdPubSubShardNumSub(CommandContext& ctx) { ReplyNumSub(ctx, kShards); }

// PUBSUB NUMPAT
void CmdPubSubNumPat(CommandContext& ctx) { ctx.out().Integer(ctx.server().PubSubPatterns()); }

void CmdPubSubHelp(CommandContext& ctx) {
  resp::ReplyWriter& out = ctx.out();
  const char* lines[] = {
      "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CHANNELS [<pattern>]", "    Return the channels with subscribers (matching the pattern).",
      "NUMPAT", "    Return the number of pattern subscriptions.",
      "NUMSUB [<channel> ...]", "    Return the number of subscribers of each channel.",
      "SHARDCHANNELS [<pattern>]", "    Return the shard channels with subscribers.",
      "SHARDNUMSUB [<shardchannel> ...]", "    Return the subscribers of each shard channel.",
      "HELP", "    Print this help."};
  out.ArrayHeader(static_cast<int64_t>(std::size(lines)));
  for (const char* l : lines) out.Simple(l);
}

}  // namespace

void UnsubscribeAll(ServerApi& server, Session& s, resp::ReplyWriter* out) {
  for (int kind = 0; kind < 3; ++kind) {
    if (s.subscriptions[kind].empty()) continue;
    UnsubscribeKind(server, s, kind, out);
  }
}

bool AllowedWhileSubscribed(std::string_view c) {
  return c == "subscribe" || c == "unsubscribe" || c == "psubscribe" || c == "punsubscribe" ||
         c == "ssubscribe" || c == "sunsubscribe" || c == "ping" || c == "quit" || c == "reset";
}

void RegisterPubSub(CommandTable& t) {
  const uint32_t kSub = kPubSub | kNoScript | kLoading | kStale;
  auto add = [&](const char* name, int arity, uint32_t flags, KeySpec keys, const char* since,
                 const char* summary, const char* syntax, Handler h) {
    t.Add({.name = name, .arity = arity, .flags = flags, .categories = kCatPubSub | kCatSlow,
           .keys = keys, .group = "pubsub", .since = since, .summary = summary,
           .syntax = syntax, .handler = h});
  };
  add("subscribe", -2, kSub, {}, "2.0.0", "Listens for messages published to channels.",
      "channel [channel ...]", CmdSubscribe);
  add("unsubscribe", -1, kSub, {}, "2.0.0", "Stops listening to messages posted to channels.",
      "[channel [channel ...]]", CmdUnsubscribe);
  add("psubscribe", -2, kSub, {}, "2.0.0",
      "Listens for messages published to channels that match one or more patterns.",
      "pattern [pattern ...]", CmdPSubscribe);
  add("punsubscribe", -1, kSub, {}, "2.0.0",
      "Stops listening to messages published to channels that match one or more patterns.",
      "[pattern [pattern ...]]", CmdPUnsubscribe);
  add("ssubscribe", -2, kSub, {}, "7.0.0", "Listens for messages published to shard channels.",
      "shardchannel [shardchannel ...]", CmdSSubscribe);
  add("sunsubscribe", -1, kSub, {}, "7.0.0",
      "Stops listening to messages posted to shard channels.",
      "[shardchannel [shardchannel ...]]", CmdSUnsubscribe);
  add("publish", 3, kPubSub | kLoading | kStale | kFast | kMayReplicate, {}, "2.0.0",
      "Posts a message to a channel.", "channel message", CmdPublish);
  add("spublish", 3, kPubSub | kLoading | kStale | kFast | kMayReplicate, {}, "7.0.0",
      "Post a message to a shard channel", "shardchannel message", CmdSPublish);

  CommandSpec& pubsub = t.Add({.name = "pubsub", .arity = -2, .categories = kCatSlow,
                               .group = "pubsub", .since = "2.8.0",
                               .summary = "A container for Pub/Sub commands."});
  auto sub = [&](const char* name, int arity, const char* summary, const char* syntax,
                 Handler h) {
    t.AddSub(pubsub, {.name = name, .arity = arity, .flags = kPubSub | kLoading | kStale,
                      .categories = kCatPubSub | kCatSlow, .since = "2.8.0", .summary = summary,
                      .syntax = syntax, .handler = h});
  };
  sub("channels", -2, "Returns the active channels.", "[pattern]", CmdPubSubChannels);
  sub("numsub", -2, "Returns a count of subscribers to channels.", "[channel [channel ...]]",
      CmdPubSubNumSub);
  sub("numpat", 2, "Returns a count of unique pattern subscriptions.", "", CmdPubSubNumPat);
  sub("shardchannels", -2, "Returns the active shard channels.", "[pattern]",
      CmdPubSubShardChannels);
  sub("shardnumsub", -2, "Returns the count of subscribers of shard channels.",
      "[shardchannel [shardchannel ...]]", CmdPubSubShardNumSub);
  sub("help", 2, "Returns helpful text about the different subcommands.", "", CmdPubSubHelp);
}

}  // namespace runnel::commands
