// XenStore module: filled in by its own issue. Until then it adds no exports, and the
// TypeScript layer reports VIR_ERR_NO_SUPPORT when asked for it.
#include "addon.h"

namespace xenvirt {
void InitXenStore(Napi::Env env, Napi::Object exports) {}
}  // namespace xenvirt
