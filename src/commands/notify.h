// Keyspace notifications: the events commands announce (CommandContext::Notify) published as
// Pub/Sub messages on __keyspace@<db>__:<key> (the event name) and __keyevent@<db>__:<event>
// (the key), through the server's ordinary Pub/Sub delivery, so subscribers on every thread and
// pattern subscribers get them.
//
// Why after the locks: publishing matches every pattern subscription and posts to each
// subscriber thread's mailbox; done under shard locks it would lengthen every write's hold on
// its shards. Events of one command (or one transaction) keep their order, and are published
// before the command's reply is sent, so a client that waits for a reply before writing again
// sees its events in order. Two clients writing the same key at the same moment from different
// threads may see their events interleaved differently from the order the writes applied.
#pragma once

#include <string_view>

#include "commands/context.h"

namespace runnel::commands {

// Publishes the events `ctx`'s command announced (call with no shard locks held).
void PublishEvents(CommandContext& ctx);

// Publishes one event now if its class is on (no shard locks held): the active expiry cycle.
void PublishEvent(ServerApi& server, uint32_t type, int db, std::string_view event,
                  std::string_view key);

}  // namespace runnel::commands
