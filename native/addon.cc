// Entry point of the native core: wires the per-environment data and the modules.
#include "addon.h"

#include <cerrno>
#include <cstring>

namespace xenvirt {

Napi::Error MakeVirError(Napi::Env env, const char* code, const char* domain,
                         const std::string& message, int err, napi_value cause) {
  AddonData* data = env.GetInstanceData<AddonData>();
  Napi::Object obj;
  if (data != nullptr && !data->virErrorCtor.IsEmpty()) {
    Napi::Object opts = Napi::Object::New(env);
    opts.Set("code", code);
    opts.Set("domain", domain);
    if (err != 0) {
      opts.Set("errno", err);
      const char* name = nullptr;
#if defined(__GLIBC__)
      name = strerrorname_np(err);
#endif
      if (name != nullptr) opts.Set("syscall", name);
    }
    if (cause != nullptr) opts.Set("cause", cause);
    obj = data->virErrorCtor.New({Napi::String::New(env, message), opts});
  } else {
    obj = Napi::Error::New(env, message).Value();
    obj.Set("code", code);
    obj.Set("domain", domain);
    if (cause != nullptr) obj.Set("cause", cause);
  }
  return Napi::Error(env, obj);
}

Napi::Value SystemCause(Napi::Env env, int err, const std::string& call, const std::string& path) {
  const char* name = nullptr;
#if defined(__GLIBC__)
  if (err != 0) name = strerrorname_np(err);
#endif
  std::string what = call.empty() ? std::string("native call") : call;
  std::string msg = err != 0 ? (std::string(name != nullptr ? name : "errno") + ": " + strerror(err) +
                                ", " + what)
                             : what + " failed";
  if (!path.empty()) msg += " '" + path + "'";
  Napi::Object o = Napi::Error::New(env, msg).Value();
  if (name != nullptr) o.Set("code", name);
  if (err != 0) o.Set("errno", err);
  if (!call.empty()) o.Set("syscall", call);
  if (!path.empty()) o.Set("path", path);
  return o;
}

namespace {

// Called once by lib/native.ts with the VirError class.
Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) {
    throw Napi::TypeError::New(env, "setErrorClass expects a constructor");
  }
  env.GetInstanceData<AddonData>()->virErrorCtor =
      Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  InitCore(env, exports);
  InitXenStore(env, exports);
  InitHypervisor(env, exports);
  InitPeerCred(env, exports);
  return exports;
}

}  // namespace
}  // namespace xenvirt

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  return xenvirt::Init(env, exports);
}

NODE_API_MODULE(xenvirt, InitAddon)
