// Facts about the native build itself: what the TypeScript layer asks before it
// decides which transports and sub-drivers can work on this machine.
#include <sys/utsname.h>

#include "addon.h"

namespace xenvirt {
namespace {

Napi::Value NativeInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("napiVersion", NAPI_VERSION);
  out.Set("addonVersion", "0.1.0");
  struct utsname u;
  if (uname(&u) == 0) {
    out.Set("sysname", u.sysname);
    out.Set("release", u.release);
    out.Set("machine", u.machine);
  }
  return out;
}

}  // namespace

void InitCore(Napi::Env env, Napi::Object exports) {
  exports.Set("nativeInfo", Napi::Function::New(env, NativeInfo, "nativeInfo"));
}

}  // namespace xenvirt
