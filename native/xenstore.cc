// XenStore connection: one non-blocking fd (xenstored's unix socket or /dev/xen/xenbus)
// watched by a uv_poll_t on Node's loop. This file only moves bytes: it frames requests,
// splits replies into frames, matches replies to requests by req_id and hands watch
// events to JavaScript. Every policy (paths, retries, decoding, errors) lives in
// lib/xenstore/.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "addon.h"

namespace xenvirt {
namespace {

constexpr const char* kDomain = "VIR_FROM_XENSTORE";

// Wire facts (xs_wire.h): a 16-byte header in host byte order, payloads of at most
// 4096 bytes from a client. oxenstored answers with larger replies, so replies get a
// much higher ceiling that only exists to stop a garbage length from eating memory.
struct WireHeader {
  uint32_t type;
  uint32_t req_id;
  uint32_t tx_id;
  uint32_t len;
};
static_assert(sizeof(WireHeader) == 16, "xs wire header is 16 bytes");
constexpr uint32_t kPayloadMax = 4096;
constexpr uint32_t kReplyMax = 16u << 20;
constexpr uint32_t kTypeWatchEvent = 15;
constexpr uint32_t kTypeError = 16;
constexpr uint32_t kTypeMax = 64;  // anything above is not a message type, just garbage
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kMaxIov = 64;
// Corked requests are written once this many are queued, so that the daemon starts on
// a long burst while JavaScript is still issuing the rest of it.
constexpr size_t kCorkLimit = 32;
// At most this many requests are on the wire unanswered; the rest wait here. It stays
// well under oxenstored's per-connection limit of outstanding requests (1024 by
// default), past which it stops reading from the connection.
constexpr size_t kMaxInFlight = 128;

// How a successful reply reaches JavaScript: bytes, or text without a Buffer's cost.
enum class ReplyAs : uint32_t { kBuffer = 0, kText = 1, kCString = 2, kNothing = 3 };

struct Pending {
  uint32_t type;
  ReplyAs as;
  // The payload's first string (the path for node operations), for error messages.
  std::string subject;
  Napi::Promise::Deferred deferred;
};

// Owns the fd; closing is explicit so that the order (poll stop, fd close) is fixed.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// The libuv poll handle outlives its owner until libuv's close callback: the owner
// only ever asks for it to be closed, the callback frees it.
class PollHandle {
 public:
  PollHandle() = default;
  PollHandle(const PollHandle&) = delete;
  PollHandle& operator=(const PollHandle&) = delete;
  ~PollHandle() { Close(); }

  int Init(uv_loop_t* loop, int fd, void* owner) {
    handle_ = new uv_poll_t;
    int rc = uv_poll_init(loop, handle_, fd);
    if (rc != 0) {
      delete handle_;
      handle_ = nullptr;
      return rc;
    }
    handle_->data = owner;
    return 0;
  }
  uv_poll_t* get() const { return handle_; }
  void Close() {
    if (handle_ == nullptr) return;
    uv_poll_stop(handle_);
    handle_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    handle_ = nullptr;
  }

 private:
  uv_poll_t* handle_ = nullptr;
};

class XsConnection : public Napi::ObjectWrap<XsConnection> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "XsConnection",
                       {
                           InstanceMethod<&XsConnection::Request>("request"),
                           InstanceMethod<&XsConnection::Flush>("flush"),
                           InstanceMethod<&XsConnection::SetKeepAlive>("setKeepAlive"),
                           InstanceMethod<&XsConnection::Close>("close"),
                           InstanceAccessor<&XsConnection::PendingCount>("pending"),
                       });
  }

  // new XsConnection(kind: 'socket' | 'device', path, onWatchEvent(buf), onClose(err),
  //                  makeError(errnoName | null, type, subject, cause?))
  // makeError builds the error a failed request rejects with (lib/xenstore decides its
  // class and message), so no JavaScript wrapper promise is needed per call.
  explicit XsConnection(const Napi::CallbackInfo& info) : Napi::ObjectWrap<XsConnection>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !info[0].IsString() || !info[1].IsString() || !info[2].IsFunction() ||
        !info[3].IsFunction() || !info[4].IsFunction()) {
      throw Napi::TypeError::New(env, "XsConnection(kind, path, onWatchEvent, onClose, makeError)");
    }
    std::string kind = info[0].As<Napi::String>();
    std::string path = info[1].As<Napi::String>();
    device_ = kind == "device";
    if (device_) {
      fd_.Reset(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
      if (!fd_.valid()) ThrowErrno(env, "VIR_ERR_NO_XENSTORE", "cannot open XenStore device " + path);
    } else {
      OpenSocket(env, path);
    }
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    int rc = poll_.Init(loop, fd_.get(), this);
    if (rc != 0) {
      throw MakeVirError(env, "VIR_ERR_INTERNAL_ERROR", kDomain,
                         std::string("uv_poll_init failed: ") + uv_strerror(rc));
    }
    onWatchEvent_ = Napi::Persistent(info[2].As<Napi::Function>());
    onClose_ = Napi::Persistent(info[3].As<Napi::Function>());
    makeError_ = Napi::Persistent(info[4].As<Napi::Function>());
    asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "xenvirt:XenStore");
    inbuf_.resize(kReadChunk);
    StartPoll(false);
    UpdateRef();
    // Open connections stay alive until closed (events may arrive at any time); the
    // cleanup hook closes whatever is still open when the environment goes away.
    Ref();
    napi_add_env_cleanup_hook(env, &XsConnection::OnEnvCleanup, this);
    hookInstalled_ = true;
  }

  ~XsConnection() override {
    RemoveHook();
    Teardown();
  }

 private:
  void OpenSocket(Napi::Env env, const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
      throw MakeVirError(env, "VIR_ERR_INVALID_ARG", kDomain,
                         "XenStore socket path is empty or longer than " +
                             std::to_string(sizeof(addr.sun_path) - 1) + " bytes: " + path);
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    fd_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_.valid()) ThrowErrno(env, "VIR_ERR_NO_XENSTORE", "cannot create a unix socket");
    // A local stream connect either completes or fails at once; EAGAIN means the
    // daemon's backlog is full, which is reported rather than waited for.
    if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ThrowErrno(env, "VIR_ERR_NO_XENSTORE", "cannot connect to xenstored at " + path);
    }
  }

  [[noreturn]] static void ThrowErrno(Napi::Env env, const char* code, const std::string& what) {
    int err = errno;
    throw MakeVirError(env, code, kDomain, what + ": " + std::strerror(err), err);
  }

  // request(type, txId, payload: Buffer | string, replyAs) -> Promise<Buffer | string>.
  // A string payload is sent UTF-8 encoded with its NUL. Failures reject with what
  // makeError returns. The frame is queued; flush() writes it.
  Napi::Value Request(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t type = info[0].As<Napi::Number>().Uint32Value();
    uint32_t tx = info[1].As<Napi::Number>().Uint32Value();
    auto as = static_cast<ReplyAs>(info[3].As<Napi::Number>().Uint32Value());
    std::string text;
    const uint8_t* data = nullptr;
    size_t len = 0;
    if (info[2].IsString()) {
      text = info[2].As<Napi::String>().Utf8Value();
      data = reinterpret_cast<const uint8_t*>(text.c_str());
      len = text.size() + 1;  // with the NUL
    } else if (info[2].IsBuffer()) {
      auto b = info[2].As<Napi::Buffer<uint8_t>>();
      data = b.Data();
      len = b.Length();
    } else {
      throw Napi::TypeError::New(env, "payload must be a Buffer or a string");
    }
    if (len > kPayloadMax) {
      // The C daemon drops a connection that sends more, so never send it.
      throw MakeVirError(env, "VIR_ERR_INVALID_ARG", kDomain,
                         "XenStore request of " + std::to_string(len) +
                             " bytes exceeds the protocol's 4096-byte limit",
                         E2BIG);
    }
    auto deferred = Napi::Promise::Deferred::New(env);
    std::string subject(reinterpret_cast<const char*>(data), strnlen(reinterpret_cast<const char*>(data), len));
    if (!fd_.valid()) {
      Napi::Error e = MakeVirError(env, "VIR_ERR_NO_CONNECT", kDomain, "the XenStore connection is closed");
      deferred.Reject(RequestError(env, type, subject, e.Value()));
      return deferred.Promise();
    }
    uint32_t id = nextReqId_++;
    if (nextReqId_ == 0) nextReqId_ = 1;  // keep 0 for "not a reply"
    WireHeader h{type, id, tx, static_cast<uint32_t>(len)};
    std::vector<uint8_t> frame(sizeof(h) + len);
    std::memcpy(frame.data(), &h, sizeof(h));
    if (len != 0) std::memcpy(frame.data() + sizeof(h), data, len);
    backlog_.push_back(std::move(frame));
    pending_.emplace(id, Pending{type, as, std::move(subject), deferred});
    Admit();
    if (outq_.size() >= kCorkLimit && !writing_) WriteQueued(env);
    UpdateRef();
    return deferred.Promise();
  }

  // The rejection value for a request: from the daemon's errno name, or from a
  // connection failure (`cause`).
  Napi::Value RequestError(Napi::Env env, uint32_t type, const std::string& subject, Napi::Value cause,
                           const char* errnoName = nullptr, size_t errnoLen = 0) {
    Napi::Value name = errnoName ? Napi::String::New(env, errnoName, errnoLen).As<Napi::Value>() : env.Null();
    return makeError_.Call({name, Napi::Number::New(env, type), Napi::String::New(env, subject), cause});
  }

  Napi::Value Flush(const Napi::CallbackInfo& info) {
    Admit();
    WriteQueued(info.Env());
    return info.Env().Undefined();
  }

  Napi::Value SetKeepAlive(const Napi::CallbackInfo& info) {
    keepAlive_ = info[0].ToBoolean();
    UpdateRef();
    return info.Env().Undefined();
  }

  Napi::Value PendingCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(pending_.size()));
  }

  // Idempotent. Settles every call in flight with one "closed" error; does not call
  // onClose (the caller asked for it and knows).
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_.valid()) {
      Napi::Error err = MakeVirError(env, "VIR_ERR_NO_CONNECT", kDomain,
                                     "the XenStore connection was closed with the call in flight");
      Shutdown(err.Value());
    }
    return env.Undefined();
  }

  // --- I/O on the loop -------------------------------------------------------------

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<XsConnection*>(handle->data);
    if (self == nullptr) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    // Promise reactions and nextTicks run when this scope closes, as after any callback.
    Napi::CallbackScope cbScope(env, *self->asyncContext_);
    try {
      if (status < 0) {
        // libuv reports EPOLLERR as EBADF; a read tells the real story (usually the
        // daemon went away: EOF or ECONNRESET).
        self->ReadAvailable(env);
        self->Fail(env, "VIR_ERR_RPC", std::string("XenStore poll failed: ") + uv_strerror(status), -status);
        return;
      }
      if (events & UV_WRITABLE) self->WriteQueued(env);
      if ((events & UV_READABLE) && self->fd_.valid()) self->ReadAvailable(env);
    } catch (const Napi::Error& e) {
      // An exception from a JavaScript callback: report it like any uncaught error.
      napi_fatal_exception(env, e.Value());
    }
  }

  void WriteQueued(Napi::Env env) {
    while (fd_.valid() && !outq_.empty()) {
      ssize_t n;
      if (device_) {
        // The xenbus device takes exactly one message per write.
        auto& f = outq_.front();
        n = ::write(fd_.get(), f.data() + outOff_, f.size() - outOff_);
      } else {
        iovec iov[kMaxIov];
        int cnt = 0;
        size_t off = outOff_;
        for (auto it = outq_.begin(); it != outq_.end() && cnt < kMaxIov; ++it, ++cnt) {
          iov[cnt].iov_base = it->data() + off;
          iov[cnt].iov_len = it->size() - off;
          off = 0;
        }
        n = ::writev(fd_.get(), iov, cnt);
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          StartPoll(true);
          return;
        }
        int err = errno;
        Fail(env, "VIR_ERR_RPC",
             err == EPIPE || err == ECONNRESET
                 ? std::string("xenstored closed the connection (") + std::strerror(err) + ")"
                 : std::string("cannot write to XenStore: ") + std::strerror(err),
             err);
        return;
      }
      size_t left = static_cast<size_t>(n);
      while (left > 0 && !outq_.empty()) {
        size_t avail = outq_.front().size() - outOff_;
        if (left >= avail) {
          left -= avail;
          outq_.pop_front();
          outOff_ = 0;
        } else {
          outOff_ += left;
          left = 0;
        }
      }
    }
    if (fd_.valid() && writing_) StartPoll(false);
    UpdateRef();
  }

  void ReadAvailable(Napi::Env env) {
    // Bounded so that a chatty daemon cannot starve the rest of the loop.
    for (int round = 0; round < 16 && fd_.valid(); round++) {
      if (inbuf_.size() - inEnd_ < kReadChunk) inbuf_.resize(inEnd_ + kReadChunk);
      ssize_t n = ::read(fd_.get(), inbuf_.data() + inEnd_, inbuf_.size() - inEnd_);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        int err = errno;
        Fail(env, "VIR_ERR_RPC",
             err == ECONNRESET ? std::string("xenstored closed the connection (reset)")
                               : std::string("cannot read from XenStore: ") + std::strerror(err),
             err);
        return;
      }
      if (n == 0) {
        Fail(env, "VIR_ERR_RPC",
             inEnd_ == inStart_ ? "xenstored closed the connection"
                                : "xenstored closed the connection in the middle of a reply",
             ECONNRESET);
        return;
      }
      inEnd_ += static_cast<size_t>(n);
      if (!ParseFrames(env)) return;
      // Answers free room on the wire for waiting requests.
      if (!backlog_.empty() && Admit() && !writing_) WriteQueued(env);
      if (static_cast<size_t>(n) < kReadChunk) return;  // drained for now
    }
  }

  // Dispatch every complete frame; keep a partial one for the next read.
  bool ParseFrames(Napi::Env env) {
    while (fd_.valid() && inEnd_ - inStart_ >= sizeof(WireHeader)) {
      WireHeader h;
      std::memcpy(&h, inbuf_.data() + inStart_, sizeof(h));
      if (h.len > kReplyMax || h.type > kTypeMax) {
        Fail(env, "VIR_ERR_RPC",
             "malformed XenStore frame (type " + std::to_string(h.type) + ", length " +
                 std::to_string(h.len) + "); the peer is not speaking the xenstore protocol",
             EPROTO);
        return false;
      }
      if (inEnd_ - inStart_ < sizeof(h) + h.len) break;
      const uint8_t* body = inbuf_.data() + inStart_ + sizeof(h);
      inStart_ += sizeof(h) + h.len;
      if (!Dispatch(env, h, body)) return false;
    }
    if (inStart_ == inEnd_) {
      inStart_ = inEnd_ = 0;
      if (inbuf_.size() > 4 * kReadChunk) {  // give back what one huge reply needed
        inbuf_.resize(kReadChunk);
        inbuf_.shrink_to_fit();
      }
    } else if (inStart_ > 0) {
      std::memmove(inbuf_.data(), inbuf_.data() + inStart_, inEnd_ - inStart_);
      inEnd_ -= inStart_;
      inStart_ = 0;
    }
    return fd_.valid();
  }

  bool Dispatch(Napi::Env env, const WireHeader& h, const uint8_t* body) {
    // Watch events are told apart by type, never by req_id: they may overtake the
    // reply to the request that triggered them.
    if (h.type == kTypeWatchEvent) {
      onWatchEvent_.Call({Napi::Buffer<uint8_t>::Copy(env, body, h.len)});
      return fd_.valid();
    }
    auto it = pending_.find(h.req_id);
    if (it == pending_.end()) {
      Fail(env, "VIR_ERR_RPC",
           "XenStore reply (type " + std::to_string(h.type) + ") to unknown request id " +
               std::to_string(h.req_id),
           EPROTO);
      return false;
    }
    Pending p = std::move(it->second);
    pending_.erase(it);
    UpdateRef();
    const char* text = reinterpret_cast<const char*>(body);
    if (h.type == kTypeError) {
      p.deferred.Reject(RequestError(env, p.type, p.subject, env.Undefined(), text, strnlen(text, h.len)));
    } else if (h.type == p.type) {
      switch (p.as) {
        case ReplyAs::kText:
          p.deferred.Resolve(Napi::String::New(env, text, h.len));
          break;
        case ReplyAs::kCString:
          p.deferred.Resolve(Napi::String::New(env, text, strnlen(text, h.len)));
          break;
        case ReplyAs::kNothing:
          p.deferred.Resolve(env.Undefined());
          break;
        default:
          p.deferred.Resolve(Napi::Buffer<uint8_t>::Copy(env, body, h.len));
      }
    } else {
      Napi::Error e = MakeVirError(env, "VIR_ERR_RPC", kDomain,
                                   "XenStore answered request type " + std::to_string(p.type) +
                                       " with type " + std::to_string(h.type),
                                   EPROTO);
      p.deferred.Reject(RequestError(env, p.type, p.subject, e.Value()));
      Fail(env, "VIR_ERR_RPC", "XenStore reply of the wrong type; connection dropped", EPROTO);
      return false;
    }
    return true;
  }

  // The connection is lost: settle everything, tell JavaScript once.
  void Fail(Napi::Env env, const char* code, const std::string& msg, int err) {
    if (!fd_.valid()) return;
    Napi::Error e = MakeVirError(env, code, kDomain, msg, err);
    Shutdown(e.Value());
    onClose_.Call({e.Value()});
  }

  void Shutdown(Napi::Value err) {
    Teardown();
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& kv : pending) {
      kv.second.deferred.Reject(RequestError(Env(), kv.second.type, kv.second.subject, err));
    }
    RemoveHook();
    Unref();  // balances the Ref() taken at open
  }

  // Release OS resources without touching JavaScript (also used at env teardown).
  void Teardown() {
    poll_.Close();
    fd_.Reset();
    outq_.clear();
    backlog_.clear();
    outOff_ = 0;
    inStart_ = inEnd_ = 0;
  }

  void RemoveHook() {
    if (!hookInstalled_) return;
    napi_remove_env_cleanup_hook(Env(), &XsConnection::OnEnvCleanup, this);
    hookInstalled_ = false;
  }

  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<XsConnection*>(arg);
    self->hookInstalled_ = false;
    self->Teardown();
    self->pending_.clear();
  }

  void StartPoll(bool wantWrite) {
    if (poll_.get() == nullptr) return;
    writing_ = wantWrite;
    uv_poll_start(poll_.get(), UV_READABLE | (wantWrite ? UV_WRITABLE : 0), &XsConnection::OnPoll);
  }

  // Move waiting requests to the write queue while fewer than kMaxInFlight are
  // unanswered (every pending request is either waiting here or on its way).
  bool Admit() {
    bool moved = false;
    while (!backlog_.empty() && pending_.size() - backlog_.size() < kMaxInFlight) {
      outq_.push_back(std::move(backlog_.front()));
      backlog_.pop_front();
      moved = true;
    }
    return moved;
  }

  // Keep Node alive only while something is owed to JavaScript.
  void UpdateRef() {
    if (poll_.get() == nullptr) return;
    auto* h = reinterpret_cast<uv_handle_t*>(poll_.get());
    if (keepAlive_ || !pending_.empty() || !outq_.empty()) {
      uv_ref(h);
    } else {
      uv_unref(h);
    }
  }

  Fd fd_;
  PollHandle poll_;
  bool device_ = false;
  bool writing_ = false;
  bool keepAlive_ = false;
  bool hookInstalled_ = false;
  uint32_t nextReqId_ = 1;
  std::unordered_map<uint32_t, Pending> pending_;
  std::deque<std::vector<uint8_t>> backlog_;  // not yet admitted (see Admit)
  std::deque<std::vector<uint8_t>> outq_;
  size_t outOff_ = 0;
  std::vector<uint8_t> inbuf_;
  size_t inStart_ = 0;
  size_t inEnd_ = 0;
  Napi::FunctionReference onWatchEvent_;
  Napi::FunctionReference onClose_;
  Napi::FunctionReference makeError_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
};

}  // namespace

void InitXenStore(Napi::Env env, Napi::Object exports) {
  exports.Set("XsConnection", XsConnection::Define(env));
}

}  // namespace xenvirt
