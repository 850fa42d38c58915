// Shared declarations of the xenvirt native core.
//
// The addon is deliberately small: TypeScript validates arguments and owns policy;
// native code moves bytes (XenStore) and issues hypercalls. Each module exposes one
// Init function that adds its exports; addon.cc calls them all.
#pragma once
#include <napi.h>

namespace xenvirt {

// Per-environment state (one per Node.js environment / worker thread).
struct AddonData {
  // The VirError constructor handed in from TypeScript (see lib/native.ts), so that
  // native code throws the same class users catch.
  Napi::FunctionReference virErrorCtor;
};

// Build a VirError (or a plain Error before setErrorClass ran) with libvirt-style fields.
// `cause`, when given, becomes the VirError's cause (see SystemCause).
Napi::Error MakeVirError(Napi::Env env, const char* code, const char* domain,
                         const std::string& message, int err = 0,
                         napi_value cause = nullptr);

// The OS-level failure under a VirError, shaped like Node's own system errors: `code` is
// the errno name (ENOENT), `errno` its number, `syscall` the call that failed (open,
// ioctl, "domctl getdomaininfo"), `path` the device or file when there is one.
Napi::Value SystemCause(Napi::Env env, int err, const std::string& call, const std::string& path);

// Module initialisers; each lives in its own file.
void InitCore(Napi::Env env, Napi::Object exports);
void InitXenStore(Napi::Env env, Napi::Object exports);
void InitHypervisor(Napi::Env env, Napi::Object exports);
void InitPeerCred(Napi::Env env, Napi::Object exports);

}  // namespace xenvirt
