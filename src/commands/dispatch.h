// Runs one command on the calling thread: table lookup, auth and arity checks, shard locking in
// ascending order, the handler, and per-thread statistics.
#pragma once

#include "commands/context.h"

namespace runnel::commands {

// args()[0] of ctx is the command name; the reply goes to ctx.out().
void Execute(CommandContext& ctx);

// While loading, commands without the `loading` flag get -LOADING.
void SetLoading(bool loading);
bool Loading();

}  // namespace runnel::commands
