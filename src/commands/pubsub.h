// Pub/Sub state a connection carries; used when it closes or RESETs.
#pragma once

#include "commands/context.h"

namespace runnel::commands {

// Drops every subscription of the session; with `out`, replies as UNSUBSCRIBE/PUNSUBSCRIBE/
// SUNSUBSCRIBE without arguments would (RESET does not reply them; a closing connection can't).
void UnsubscribeAll(ServerApi& server, Session& s, resp::ReplyWriter* out);

// In RESP2 a subscribed client may only run these.
bool AllowedWhileSubscribed(std::string_view command);

}  // namespace runnel::commands
