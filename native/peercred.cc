// Who is on the other end of a unix socket: the kernel's SO_PEERCRED record (pid, uid,
// gid as of connect()). Node has no API for it, and the proxy daemon needs it to decide
// whom it serves. getsockopt on a connected socket does no I/O, so calling it on the
// main thread never blocks the event loop.
#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstring>

#include "addon.h"

namespace xenvirt {
namespace {

Napi::Value GetPeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw MakeVirError(env, "VIR_ERR_INVALID_ARG", "VIR_FROM_PROXY",
                       "getPeerCredentials expects a socket file descriptor");
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (fd < 0) {
    throw MakeVirError(env, "VIR_ERR_INVALID_ARG", "VIR_FROM_PROXY",
                       "getPeerCredentials: invalid file descriptor " + std::to_string(fd));
  }
#if defined(__linux__)
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
    int err = errno;
    throw MakeVirError(env, "VIR_ERR_SYSTEM_ERROR", "VIR_FROM_PROXY",
                       std::string("cannot read the peer's credentials (SO_PEERCRED): ") +
                           std::strerror(err),
                       err);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", static_cast<double>(cred.pid));
  out.Set("uid", static_cast<double>(cred.uid));
  out.Set("gid", static_cast<double>(cred.gid));
  return out;
#else
  throw MakeVirError(env, "VIR_ERR_NO_SUPPORT", "VIR_FROM_PROXY",
                     "peer credentials (SO_PEERCRED) are only available on Linux");
#endif
}

}  // namespace

void InitPeerCred(Napi::Env env, Napi::Object exports) {
  exports.Set("getPeerCredentials",
              Napi::Function::New(env, GetPeerCredentials, "getPeerCredentials"));
}

}  // namespace xenvirt
