// Redis's error strings, in one place, and the mapping from engine statuses to them.
#pragma once

#include <string>
#include <string_view>

#include "engine/status.h"

namespace runnel::commands {

inline constexpr std::string_view kErrSyntax = "ERR syntax error";
inline constexpr std::string_view kErrWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kErrNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kErrNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kErrOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kErrNoSuchKey = "ERR no such key";
inline constexpr std::string_view kErrOutOfRange = "ERR index out of range";
// The count of SRANDMEMBER, HRANDFIELD, ZRANDMEMBER.
inline constexpr std::string_view kErrCountRange =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
inline constexpr std::string_view kErrDbIndex = "ERR DB index is out of range";
inline constexpr std::string_view kErrInvalidExpire = "ERR invalid expire time in '{}' command";
inline constexpr std::string_view kErrNoAuth = "NOAUTH Authentication required.";
inline constexpr std::string_view kErrWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";

// The error for a status that is an error; kOk/kNotFound have none.
std::string_view StatusError(engine::Status s);
std::string WrongArgs(std::string_view command);  // "ERR wrong number of arguments for '%s' command"
std::string UnknownSubcommand(std::string_view sub, std::string_view container);

}  // namespace runnel::commands
