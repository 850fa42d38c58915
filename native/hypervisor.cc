// Hypervisor module: the JavaScript face of hv::Session (hv_session.h).
//
// Exports `Hypervisor`, a class whose methods map one-to-one to hypercalls. Arguments
// arrive already validated by lib/hypervisor/ (TypeScript owns checks and messages);
// here we only convert numbers and structs. Every failure is thrown as a VirError with
// domain VIR_FROM_XEN and the errno. destroy (Xen continues it many times) and vcpus
// (two hypercalls per vCPU) run on the libuv pool; every other call is one hypercall
// (getdomaininfolist: one per 256 domains) and returns in microseconds, less than a
// round trip to the pool would cost (benchmarks/cases/hypervisor.bench.ts measures it).
#include <memory>

#include "addon.h"
#include "hv_session.h"

namespace xenvirt {
namespace {

constexpr const char* kFromXen = "VIR_FROM_XEN";

Napi::Array U32List(Napi::Env env, const std::vector<uint32_t>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (uint32_t i = 0; i < v.size(); i++) a.Set(i, v[i]);
  return a;
}

// HvError -> VirError. The errno name, failing call and device travel in `cause` (a
// Node-style system error); a probe that found no usable interface version adds
// `reason: 'interface-unsupported'`, `xenVersion` and the versions tried.
Napi::Error ToJs(Napi::Env env, const hv::HvError& e) {
  napi_value cause = nullptr;
  if (e.err != 0 || !e.call.empty()) cause = SystemCause(env, e.err, e.call, e.path);
  Napi::Error err = MakeVirError(env, e.code, kFromXen, e.message, e.err, cause);
  if (e.reason != nullptr) {
    Napi::Object o = err.Value();
    o.Set("reason", e.reason);
    o.Set("xenVersion", e.xen);
    o.Set("triedSysctl", U32List(env, e.triedSysctl));
    o.Set("triedDomctl", U32List(env, e.triedDomctl));
  }
  return err;
}

uint32_t U32(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Uint32Value();
}

// Raw domain records go out as 16 doubles each into a Float64Array the caller owns and
// reuses: no per-call object or string creation here (N-API property sets cost more
// than the hypercall). lib/hypervisor/native-hypervisor.ts decodes the same layout.
constexpr size_t kDomainRecordLen = 16;

void PutDomainRecord(double* r, const hv::v17::DomainInfo& d) {
  r[0] = d.domain;
  r[1] = d.flags;
  r[2] = static_cast<double>(d.tot_pages);
  r[3] = static_cast<double>(d.max_pages);
  r[4] = static_cast<double>(d.outstanding_pages);
  r[5] = static_cast<double>(d.shr_pages);
  r[6] = static_cast<double>(d.paged_pages);
  r[7] = static_cast<double>(d.cpu_time);  // ns; exact below 2^53 (104 days)
  r[8] = d.nr_online_vcpus;
  r[9] = d.max_vcpu_id == 0xffffffffu ? -1.0 : d.max_vcpu_id;
  r[10] = d.ssidref;
  r[11] = d.cpupool;
  for (int i = 0; i < 4; i++) {  // handle (UUID) as four big-endian 32-bit words
    const uint8_t* h = d.handle + 4 * i;
    r[12 + i] = static_cast<double>((uint32_t(h[0]) << 24) | (uint32_t(h[1]) << 16) |
                                    (uint32_t(h[2]) << 8) | uint32_t(h[3]));
  }
}

// Validated view of the caller's Float64Array: whole records only. One napi call, as
// this sits on the hottest path (getdomaininfo).
double* Records(const Napi::CallbackInfo& info, size_t i, size_t* count) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  bool isTyped = false;
  napi_value v = info[i];
  if (napi_is_typedarray(info.Env(), v, &isTyped) != napi_ok || !isTyped ||
      napi_get_typedarray_info(info.Env(), v, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array) {
    throw Napi::TypeError::New(info.Env(), "expected a Float64Array for domain records");
  }
  *count = length / kDomainRecordLen;
  return static_cast<double*>(data);
}

Napi::Uint8Array Bytes(Napi::Env env, const std::vector<uint8_t>& v) {
  Napi::Uint8Array a = Napi::Uint8Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a[i] = v[i];
  return a;
}

// Tears a domain down on the libuv pool; holds the session alive until done even if
// the JS object is closed meanwhile.
class DestroyWorker : public Napi::AsyncWorker {
 public:
  DestroyWorker(Napi::Env env, std::shared_ptr<hv::Session> s, uint32_t domid)
      : Napi::AsyncWorker(env, "xenvirt:destroydomain"),
        deferred_(Napi::Promise::Deferred::New(env)),
        session_(std::move(s)),
        domid_(domid) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      session_->Destroy(domid_);
    } catch (const hv::HvError& e) {
      failed_ = true;
      error_ = e;
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (failed_) {
      deferred_.Reject(ToJs(env, error_).Value());
    } else {
      deferred_.Resolve(env.Undefined());
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<hv::Session> session_;
  uint32_t domid_;
  bool failed_ = false;
  hv::HvError error_{"", "", 0};
};

Napi::Array VcpusToJs(Napi::Env env, const std::vector<hv::VcpuState>& vs) {
  Napi::Array a = Napi::Array::New(env, vs.size());
  for (uint32_t i = 0; i < vs.size(); i++) {
    const hv::v17::GetVcpuInfo& v = vs[i].info;
    Napi::Object o = Napi::Object::New(env);
    o.Set("vcpu", v.vcpu);
    o.Set("online", v.online != 0);
    o.Set("blocked", v.blocked != 0);
    o.Set("running", v.running != 0);
    o.Set("cpuTime", static_cast<double>(v.cpu_time));
    o.Set("cpu", v.cpu);
    o.Set("cpumap", Bytes(env, vs[i].affinity));
    a.Set(i, o);
  }
  return a;
}

// Reads every vCPU of a domain on the libuv pool: two hypercalls per vCPU add up on
// big guests, so the JS thread never waits for them.
class VcpusWorker : public Napi::AsyncWorker {
 public:
  VcpusWorker(Napi::Env env, std::shared_ptr<hv::Session> s, uint32_t domid, uint32_t maxId,
              uint32_t bits)
      : Napi::AsyncWorker(env, "xenvirt:getvcpus"),
        deferred_(Napi::Promise::Deferred::New(env)),
        session_(std::move(s)),
        domid_(domid),
        maxId_(maxId),
        bits_(bits) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      out_ = session_->Vcpus(domid_, maxId_, bits_, true);
    } catch (const hv::HvError& e) {
      failed_ = true;
      error_ = e;
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (failed_) {
      deferred_.Reject(ToJs(env, error_).Value());
      return;
    }
    deferred_.Resolve(VcpusToJs(env, out_));
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<hv::Session> session_;
  uint32_t domid_, maxId_, bits_;
  std::vector<hv::VcpuState> out_;
  bool failed_ = false;
  hv::HvError error_{"", "", 0};
};

class Hypervisor : public Napi::ObjectWrap<Hypervisor> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Hypervisor",
        {
            InstanceMethod<&Hypervisor::InterfaceInfo>("interfaceInfo"),
            InstanceMethod<&Hypervisor::Version>("version"),
            InstanceMethod<&Hypervisor::Physinfo>("physinfo"),
            InstanceMethod<&Hypervisor::SchedId>("schedId"),
            InstanceMethod<&Hypervisor::DomainInfoList>("domainInfoList"),
            InstanceMethod<&Hypervisor::DomainInfo>("domainInfo"),
            InstanceMethod<&Hypervisor::BindRecord>("bindRecord"),
            InstanceMethod<&Hypervisor::DomainInfoFn>("domainInfoFn"),
            InstanceMethod<&Hypervisor::Pause>("pause"),
            InstanceMethod<&Hypervisor::Unpause>("unpause"),
            InstanceMethod<&Hypervisor::Destroy>("destroy"),
            InstanceMethod<&Hypervisor::SetMaxMem>("setMaxMem"),
            InstanceMethod<&Hypervisor::SetMaxVcpus>("setMaxVcpus"),
            InstanceMethod<&Hypervisor::VcpuInfo>("vcpuInfo"),
            InstanceMethod<&Hypervisor::Vcpus>("vcpus"),
            InstanceMethod<&Hypervisor::VcpusSync>("vcpusSync"),
            InstanceMethod<&Hypervisor::GetVcpuAffinity>("getVcpuAffinity"),
            InstanceMethod<&Hypervisor::SetVcpuAffinity>("setVcpuAffinity"),
            InstanceMethod<&Hypervisor::GetCredit>("getCredit"),
            InstanceMethod<&Hypervisor::SetCredit>("setCredit"),
            InstanceMethod<&Hypervisor::Close>("close"),
        });
  }

  // new Hypervisor({ sysctlVersions?, domctlVersions? }): opens privcmd and probes.
  explicit Hypervisor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Hypervisor>(info) {
    hv::ProbeOptions probe;
    if (info.Length() > 0 && info[0].IsObject()) {
      Napi::Object o = info[0].As<Napi::Object>();
      auto read = [&](const char* key, std::vector<uint32_t>* out) {
        Napi::Value v = o.Get(key);
        if (!v.IsArray()) return;
        Napi::Array a = v.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); i++) {
          out->push_back(a.Get(i).As<Napi::Number>().Uint32Value());
        }
      };
      read("sysctlVersions", &probe.sysctl);
      read("domctlVersions", &probe.domctl);
    }
    try {
      session_ = std::make_shared<hv::Session>(probe);
    } catch (const hv::HvError& e) {
      throw ToJs(info.Env(), e);
    }
  }

 private:
  hv::Session& S(Napi::Env env) {
    if (!session_) {
      throw MakeVirError(env, "VIR_ERR_INVALID_CONN", kFromXen,
                         "the hypervisor connection is closed");
    }
    return *session_;
  }

  // Runs `fn`, turning layer errors into VirErrors.
  template <typename F>
  auto Call(Napi::Env env, F fn) -> decltype(fn(std::declval<hv::Session&>())) {
    hv::Session& s = S(env);
    try {
      return fn(s);
    } catch (const hv::HvError& e) {
      throw ToJs(env, e);
    }
  }

  Napi::Value InterfaceInfo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    hv::Session& s = S(env);
    Napi::Object o = Napi::Object::New(env);
    o.Set("sysctl", s.sysctlVersion());
    o.Set("domctl", s.domctlVersion());
    o.Set("layout", s.layout());
    o.Set("xen", s.row().xen);
    o.Set("exactDomainInfo", s.exactDomainInfo());
    o.Set("hypercallBuffers", s.bufferFromDevice() ? "/dev/xen/hypercall" : "mlock");
    return o;
  }

  Napi::Value Version(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    hv::XenVersion v = Call(env, [](hv::Session& s) { return s.Version(); });
    Napi::Object o = Napi::Object::New(env);
    o.Set("major", v.major);
    o.Set("minor", v.minor);
    o.Set("extra", v.extra);
    o.Set("capabilities", v.capabilities);
    return o;
  }

  Napi::Value Physinfo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    hv::v17::Physinfo p = Call(env, [](hv::Session& s) { return s.Physinfo(); });
    Napi::Object o = Napi::Object::New(env);
    o.Set("threadsPerCore", p.threads_per_core);
    o.Set("coresPerSocket", p.cores_per_socket);
    o.Set("nrCpus", p.nr_cpus);
    o.Set("maxCpuId", p.max_cpu_id);
    o.Set("nrNodes", p.nr_nodes);
    o.Set("maxNodeId", p.max_node_id);
    o.Set("cpuKhz", p.cpu_khz);
    o.Set("capabilities", p.capabilities);
    o.Set("totalPages", static_cast<double>(p.total_pages));
    o.Set("freePages", static_cast<double>(p.free_pages));
    o.Set("scrubPages", static_cast<double>(p.scrub_pages));
    o.Set("outstandingPages", static_cast<double>(p.outstanding_pages));
    o.Set("maxMfn", static_cast<double>(p.max_mfn));
    return o;
  }

  Napi::Value SchedId(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Napi::Number::New(env, Call(env, [](hv::Session& s) { return s.SchedId(); }));
  }

  // domainInfoList(first, out: Float64Array) -> records written (ids >= first, in order)
  Napi::Value DomainInfoList(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t first = U32(info, 0);
    size_t cap = 0;
    double* out = Records(info, 1, &cap);
    Call(env, [&](hv::Session& s) {
      s.DomainInfoList(first, static_cast<uint32_t>(cap), &list_);
    });
    for (size_t i = 0; i < list_.size(); i++) PutDomainRecord(out + i * kDomainRecordLen, list_[i]);
    return Napi::Number::New(env, static_cast<double>(list_.size()));
  }

  // bindRecord(out: Float64Array): the record domainInfo(domid) writes to from now on.
  // Checked and pinned once, so the hot call does no typed-array work.
  Napi::Value BindRecord(const Napi::CallbackInfo& info) {
    size_t cap = 0;
    double* out = Records(info, 0, &cap);
    if (cap < 1) throw Napi::RangeError::New(info.Env(), "record buffer too small");
    record_ = out;
    recordRef_ = Napi::Persistent(info[0].As<Napi::Object>());  // keeps its memory alive
    return info.Env().Undefined();
  }

  // domainInfoFn() -> (domid) => void: domainInfo(domid) into the bound record, as a
  // plain N-API function. The hot call then costs two N-API calls (arguments, domid)
  // around the hypercall, instead of the class-method wrapper's argument object,
  // unwrap and return value: in an emulated PV dom0 every page the call path touches
  // after the ioctl costs a TLB refill, so a shorter path is most of what separates
  // us from libxenctrl's loop (benchmarks/cases/hypervisor.bench.ts).
  Napi::Value DomainInfoFn(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (record_ == nullptr) throw Napi::TypeError::New(env, "no record buffer: call bindRecord first");
    auto* fast = new FastInfo{this, nullptr};
    napi_value fn = nullptr;
    napi_status st = napi_create_function(env, "domainInfo", NAPI_AUTO_LENGTH, &FastDomainInfo, fast, &fn);
    // The function keeps this object alive (its pointer is the function's data) and
    // drops that hold when it is collected itself.
    if (st == napi_ok) st = napi_create_reference(env, Value(), 1, &fast->owner_ref);
    if (st == napi_ok) st = napi_add_finalizer(env, fn, fast, &FreeFastInfo, nullptr, nullptr);
    if (st != napi_ok) {
      if (fast->owner_ref != nullptr) napi_delete_reference(env, fast->owner_ref);
      delete fast;
      throw Napi::Error::New(env, "cannot create the domainInfo function");
    }
    return Napi::Value(env, fn);
  }

  struct FastInfo {
    Hypervisor* owner;
    napi_ref owner_ref;
  };

  static void FreeFastInfo(napi_env env, void* data, void*) {
    auto* fast = static_cast<FastInfo*>(data);
    napi_delete_reference(env, fast->owner_ref);
    delete fast;
  }

  static napi_value FastDomainInfo(napi_env env, napi_callback_info cbinfo) {
    size_t argc = 1;
    napi_value arg = nullptr;
    void* data = nullptr;
    uint32_t domid = 0;
    if (napi_get_cb_info(env, cbinfo, &argc, &arg, nullptr, &data) != napi_ok) return nullptr;
    if (argc < 1 || napi_get_value_uint32(env, arg, &domid) != napi_ok) {
      napi_throw_type_error(env, nullptr, "domainInfo(domid): domid must be a number");
      return nullptr;
    }
    Hypervisor* h = static_cast<FastInfo*>(data)->owner;
    try {
      if (!h->session_) {
        throw MakeVirError(Napi::Env(env), "VIR_ERR_INVALID_CONN", kFromXen, "the hypervisor connection is closed");
      }
      try {
        PutDomainRecord(h->record_, h->session_->DomainInfo(domid));
      } catch (const hv::HvError& e) {
        throw ToJs(Napi::Env(env), e);
      }
    } catch (const Napi::Error& e) {
      e.ThrowAsJavaScriptException();
    }
    return nullptr;
  }

  // domainInfo(domid[, out: Float64Array]) -> writes one record to `out` or the bound one
  Napi::Value DomainInfo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t domid = U32(info, 0);
    double* out = record_;
    if (info.Length() > 1) {
      size_t cap = 0;
      out = Records(info, 1, &cap);
      if (cap < 1) throw Napi::RangeError::New(env, "record buffer too small");
    } else if (out == nullptr) {
      throw Napi::TypeError::New(env, "no record buffer: pass one or call bindRecord first");
    }
    hv::v17::DomainInfo d = Call(env, [&](hv::Session& s) { return s.DomainInfo(domid); });
    PutDomainRecord(out, d);
    return env.Undefined();
  }

  Napi::Value Pause(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t domid = U32(info, 0);
    Call(env, [&](hv::Session& s) { s.Pause(domid); });
    return env.Undefined();
  }

  Napi::Value Unpause(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t domid = U32(info, 0);
    Call(env, [&](hv::Session& s) { s.Unpause(domid); });
    return env.Undefined();
  }

  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    S(env);  // closed -> throw
    auto* w = new DestroyWorker(env, session_, U32(info, 0));  // owned by libuv queue
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  Napi::Value SetMaxMem(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t domid = U32(info, 0);
    double kib = info[1].As<Napi::Number>().DoubleValue();
    Call(env, [&](hv::Session& s) { s.SetMaxMem(domid, static_cast<uint64_t>(kib)); });
    return env.Undefined();
  }

  Napi::Value SetMaxVcpus(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t domid = U32(info, 0), n = U32(info, 1);
    Call(env, [&](hv::Session& s) { s.SetMaxVcpus(domid, n); });
    return env.Undefined();
  }

  Napi::Value VcpuInfo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t domid = U32(info, 0), vcpu = U32(info, 1);
    hv::v17::GetVcpuInfo v = Call(env, [&](hv::Session& s) { return s.VcpuInfo(domid, vcpu); });
    Napi::Object o = Napi::Object::New(env);
    o.Set("vcpu", v.vcpu);
    o.Set("online", v.online != 0);
    o.Set("blocked", v.blocked != 0);
    o.Set("running", v.running != 0);
    o.Set("cpuTime", static_cast<double>(v.cpu_time));
    o.Set("cpu", v.cpu);
    return o;
  }

  // vcpus(domid, maxVcpuId, nrBits) -> Promise<[{vcpu, …, cpumap: Uint8Array}]>
  Napi::Value Vcpus(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    S(env);  // closed -> throw
    auto* w = new VcpusWorker(env, session_, U32(info, 0), U32(info, 1), U32(info, 2));
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  // vcpusSync(domid, maxVcpuId, nrBits) -> the same array, on the JS thread (few vCPUs)
  Napi::Value VcpusSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t domid = U32(info, 0), maxId = U32(info, 1), bits = U32(info, 2);
    std::vector<hv::VcpuState> vs =
        Call(env, [&](hv::Session& s) { return s.Vcpus(domid, maxId, bits, false); });
    return VcpusToJs(env, vs);
  }

  // getVcpuAffinity(domid, vcpu, nrBits) -> Uint8Array bitmap
  Napi::Value GetVcpuAffinity(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t domid = U32(info, 0), vcpu = U32(info, 1), bits = U32(info, 2);
    std::vector<uint8_t> m =
        Call(env, [&](hv::Session& s) { return s.GetVcpuAffinity(domid, vcpu, bits); });
    return Bytes(env, m);
  }

  // setVcpuAffinity(domid, vcpu, Uint8Array bitmap) -> effective bitmap
  Napi::Value SetVcpuAffinity(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t domid = U32(info, 0), vcpu = U32(info, 1);
    Napi::Uint8Array in = info[2].As<Napi::Uint8Array>();
    std::vector<uint8_t> map(in.Data(), in.Data() + in.ByteLength());
    std::vector<uint8_t> m =
        Call(env, [&](hv::Session& s) { return s.SetVcpuAffinity(domid, vcpu, map); });
    return Bytes(env, m);
  }

  // getCredit(domid, schedId) -> { weight, cap }
  Napi::Value GetCredit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t domid = U32(info, 0), sched = U32(info, 1);
    uint16_t weight = 0, cap = 0;
    Call(env, [&](hv::Session& s) { s.GetCredit(domid, sched, &weight, &cap); });
    Napi::Object o = Napi::Object::New(env);
    o.Set("weight", weight);
    o.Set("cap", cap);
    return o;
  }

  // setCredit(domid, schedId, weight, cap)
  Napi::Value SetCredit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t domid = U32(info, 0), sched = U32(info, 1);
    uint16_t weight = static_cast<uint16_t>(U32(info, 2));
    uint16_t cap = static_cast<uint16_t>(U32(info, 3));
    Call(env, [&](hv::Session& s) { s.SetCredit(domid, sched, weight, cap); });
    return env.Undefined();
  }

  // Drops this object's reference; a destroy still in flight keeps its own.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    session_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<hv::Session> session_;
  std::vector<hv::v17::DomainInfo> list_;  // reused by domainInfoList (JS thread only)
  double* record_ = nullptr;               // bindRecord's buffer
  Napi::ObjectReference recordRef_;
};

// Field offsets of the structs in hv_abi.h, for the header cross-check test.
Napi::Value HvAbiLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  using namespace hv::v17;
  Napi::Object o = Napi::Object::New(env);
  auto put = [&](const char* k, size_t v) { o.Set(k, static_cast<double>(v)); };
#define XV_OFF(T, CT, f) put(#CT "." #f, offsetof(T, f))
#define XV_SIZE(T, CT) put("sizeof " #CT, sizeof(T))
  XV_SIZE(Domctl, xen_domctl);
  XV_OFF(Domctl, xen_domctl, cmd);
  XV_OFF(Domctl, xen_domctl, interface_version);
  XV_OFF(Domctl, xen_domctl, domain);
  XV_OFF(Domctl, xen_domctl, u);
  XV_SIZE(Sysctl, xen_sysctl);
  XV_OFF(Sysctl, xen_sysctl, cmd);
  XV_OFF(Sysctl, xen_sysctl, interface_version);
  XV_OFF(Sysctl, xen_sysctl, u);
  XV_SIZE(DomainInfo, xen_domctl_getdomaininfo);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, domain);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, flags);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, tot_pages);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, max_pages);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, outstanding_pages);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, shr_pages);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, paged_pages);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, shared_info_frame);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, cpu_time);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, nr_online_vcpus);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, max_vcpu_id);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, ssidref);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, handle);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, cpupool);
  XV_OFF(DomainInfo, xen_domctl_getdomaininfo, gpaddr_bits);
  put("xen_domctl_getdomaininfo.arch_config", offsetof(DomainInfo, arch_emulation_flags));
  XV_SIZE(GetVcpuInfo, xen_domctl_getvcpuinfo);
  XV_OFF(GetVcpuInfo, xen_domctl_getvcpuinfo, vcpu);
  XV_OFF(GetVcpuInfo, xen_domctl_getvcpuinfo, online);
  XV_OFF(GetVcpuInfo, xen_domctl_getvcpuinfo, blocked);
  XV_OFF(GetVcpuInfo, xen_domctl_getvcpuinfo, running);
  XV_OFF(GetVcpuInfo, xen_domctl_getvcpuinfo, cpu_time);
  XV_OFF(GetVcpuInfo, xen_domctl_getvcpuinfo, cpu);
  XV_SIZE(VcpuAffinity, xen_domctl_vcpuaffinity);
  XV_OFF(VcpuAffinity, xen_domctl_vcpuaffinity, vcpu);
  XV_OFF(VcpuAffinity, xen_domctl_vcpuaffinity, flags);
  XV_OFF(VcpuAffinity, xen_domctl_vcpuaffinity, cpumap_hard);
  XV_OFF(VcpuAffinity, xen_domctl_vcpuaffinity, cpumap_soft);
  XV_SIZE(Bitmap, xenctl_bitmap);
  XV_OFF(Bitmap, xenctl_bitmap, bitmap);
  XV_OFF(Bitmap, xenctl_bitmap, nr_bits);
  XV_SIZE(SchedulerOp, xen_domctl_scheduler_op);
  XV_OFF(SchedulerOp, xen_domctl_scheduler_op, sched_id);
  XV_OFF(SchedulerOp, xen_domctl_scheduler_op, cmd);
  XV_OFF(SchedulerOp, xen_domctl_scheduler_op, u);
  XV_SIZE(Physinfo, xen_sysctl_physinfo);
  XV_OFF(Physinfo, xen_sysctl_physinfo, threads_per_core);
  XV_OFF(Physinfo, xen_sysctl_physinfo, cores_per_socket);
  XV_OFF(Physinfo, xen_sysctl_physinfo, nr_cpus);
  XV_OFF(Physinfo, xen_sysctl_physinfo, max_cpu_id);
  XV_OFF(Physinfo, xen_sysctl_physinfo, nr_nodes);
  XV_OFF(Physinfo, xen_sysctl_physinfo, max_node_id);
  XV_OFF(Physinfo, xen_sysctl_physinfo, cpu_khz);
  XV_OFF(Physinfo, xen_sysctl_physinfo, capabilities);
  XV_OFF(Physinfo, xen_sysctl_physinfo, total_pages);
  XV_OFF(Physinfo, xen_sysctl_physinfo, free_pages);
  XV_OFF(Physinfo, xen_sysctl_physinfo, scrub_pages);
  XV_OFF(Physinfo, xen_sysctl_physinfo, outstanding_pages);
  XV_OFF(Physinfo, xen_sysctl_physinfo, max_mfn);
  XV_OFF(Physinfo, xen_sysctl_physinfo, hw_cap);
  XV_SIZE(GetDomainInfoList, xen_sysctl_getdomaininfolist);
  XV_OFF(GetDomainInfoList, xen_sysctl_getdomaininfolist, first_domain);
  XV_OFF(GetDomainInfoList, xen_sysctl_getdomaininfolist, max_domains);
  XV_OFF(GetDomainInfoList, xen_sysctl_getdomaininfolist, buffer);
  XV_OFF(GetDomainInfoList, xen_sysctl_getdomaininfolist, num_domains);
#undef XV_OFF
#undef XV_SIZE
  // op numbers, checked against the header's #defines
  put("XEN_DOMCTL_destroydomain", hv::kDomctlDestroyDomain);
  put("XEN_DOMCTL_pausedomain", hv::kDomctlPauseDomain);
  put("XEN_DOMCTL_unpausedomain", hv::kDomctlUnpauseDomain);
  put("XEN_DOMCTL_getdomaininfo", hv::kDomctlGetDomainInfo);
  put("XEN_DOMCTL_setvcpuaffinity", hv::kDomctlSetVcpuAffinity);
  put("XEN_DOMCTL_getvcpuaffinity", hv::kDomctlGetVcpuAffinity);
  put("XEN_DOMCTL_max_mem", hv::kDomctlMaxMem);
  put("XEN_DOMCTL_getvcpuinfo", hv::kDomctlGetVcpuInfo);
  put("XEN_DOMCTL_max_vcpus", hv::kDomctlMaxVcpus);
  put("XEN_DOMCTL_scheduler_op", hv::kDomctlSchedulerOp);
  put("XEN_SYSCTL_physinfo", hv::kSysctlPhysinfo);
  put("XEN_SYSCTL_sched_id", hv::kSysctlSchedId);
  put("XEN_SYSCTL_getdomaininfolist", hv::kSysctlGetDomainInfoList);
  put("XEN_SCHEDULER_CREDIT", hv::kSchedulerCredit);
  put("XEN_SCHEDULER_CREDIT2", hv::kSchedulerCredit2);
  put("XEN_DOMCTL_SCHEDOP_putinfo", hv::kSchedOpPutInfo);
  put("XEN_DOMCTL_SCHEDOP_getinfo", hv::kSchedOpGetInfo);
  put("XEN_VCPUAFFINITY_HARD", hv::kVcpuAffinityHard);
  put("XEN_DOMINF_dying", hv::kDomInfDying);
  put("XEN_DOMINF_hvm_guest", hv::kDomInfHvm);
  put("XEN_DOMINF_shutdown", hv::kDomInfShutdown);
  put("XEN_DOMINF_paused", hv::kDomInfPaused);
  put("XEN_DOMINF_blocked", hv::kDomInfBlocked);
  put("XEN_DOMINF_running", hv::kDomInfRunning);
  put("__HYPERVISOR_xen_version", hv::kHypercallXenVersion);
  put("__HYPERVISOR_sysctl", hv::kHypercallSysctl);
  put("__HYPERVISOR_domctl", hv::kHypercallDomctl);
  put("XENVER_version", hv::kXenVerVersion);
  put("XENVER_extraversion", hv::kXenVerExtraversion);
  put("XENVER_capabilities", hv::kXenVerCapabilities);
  put("DOMID_FIRST_RESERVED", hv::kFirstReservedDomid);
  return o;
}

// The interface version table, so TypeScript can show what this build supports.
Napi::Value HvKnownVersions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& row : hv::kInterfaceVersions) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("xen", row.xen);
    o.Set("sysctl", row.sysctl);
    o.Set("domctl", row.domctl);
    o.Set("layout", hv::LayoutName(row.layout));
    o.Set("exactDomainInfo", row.lookup == hv::DomainInfoLookup::kExact);
    a.Set(i++, o);
  }
  return a;
}

}  // namespace

void InitHypervisor(Napi::Env env, Napi::Object exports) {
  exports.Set("Hypervisor", Hypervisor::Define(env));
  exports.Set("hvAbiLayout", Napi::Function::New(env, HvAbiLayout, "hvAbiLayout"));
  exports.Set("hvKnownVersions", Napi::Function::New(env, HvKnownVersions, "hvKnownVersions"));
}

}  // namespace xenvirt
