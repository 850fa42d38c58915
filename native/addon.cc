// Entry point of the native core: wires the per-environment data and the modules.
#include "addon.h"

#include <cerrno>
#include <cstring>

namespace xenvirt {

Napi::Error MakeVirError(Napi::Env env, const char* code, const char* domain,
                         const std::string& message, int err) {
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
    obj = data->virErrorCtor.New({Napi::String::New(env, message), opts});
  } else {
    obj = Napi::Error::New(env, message).Value();
    obj.Set("code", code);
    obj.Set("domain", domain);
  }
  return Napi::Error(env, obj);
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
