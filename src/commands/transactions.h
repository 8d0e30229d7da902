// Transaction state that outlives a command: used when a connection closes or RESETs.
#pragma once

#include "commands/context.h"

namespace runnel::commands {

// Forgets the client's WATCHed keys.
void Unwatch(engine::Keyspace& ks, Session& s);
// Leaves MULTI (queued commands dropped) and forgets WATCHed keys.
void DiscardTransaction(engine::Keyspace& ks, Session& s);

}  // namespace runnel::commands
