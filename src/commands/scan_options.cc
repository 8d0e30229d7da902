#include "commands/scan_options.h"

#include "commands/context.h"
#include "commands/errors.h"
#include "common/util.h"

namespace runnel::commands {

bool ParseScanOptions(CommandContext& ctx, size_t first, bool allow_type, ScanOptions* out) {
  for (size_t i = first; i < ctx.argc(); i += 2) {
    std::string_view opt = ctx.arg(i);
    if (i + 1 >= ctx.argc()) {
      ctx.Error(kErrSyntax);
      return false;
    }
    std::string_view value = ctx.arg(i + 1);
    if (EqualsIgnoreCase(opt, "count")) {
      if (!ParseInt64(value, &out->count)) {
        ctx.Error(kErrNotInteger);
        return false;
      }
      if (out->count < 1) {
        ctx.Error(kErrSyntax);
        return false;
      }
    } else if (EqualsIgnoreCase(opt, "match")) {
      out->pattern = value == "*" ? std::string_view() : value;
    } else if (allow_type && EqualsIgnoreCase(opt, "type")) {
      out->type = value;
    } else {
      ctx.Error(kErrSyntax);
      return false;
    }
  }
  return true;
}

}  // namespace runnel::commands
