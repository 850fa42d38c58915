// Hypervisor session: interface version probe and the domctl/sysctl calls (hv_session.h).
#include "hv_session.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

namespace xenvirt {
namespace hv {

namespace {

// Where things live inside the one-page call buffer. Pointers handed to Xen must point
// into hypercall memory, so the bitmap and strings get their own slots next to the op.
constexpr size_t kOpOffset = 0;
constexpr size_t kBitmapOffset = 512;
constexpr size_t kMaxBitmapBytes = 512;  // 4096 CPUs
constexpr size_t kCapsOffset = 1024;
constexpr size_t kExtraOffset = 2048;
constexpr size_t kCallBufferBytes = 4096;
// Domains fetched per getdomaininfolist call: one batch covers typical hosts; Xen only
// writes the entries it fills, so a bigger buffer costs memory, not time.
constexpr uint32_t kListBatch = 256;

static_assert(sizeof(v17::Domctl) <= kBitmapOffset, "op slot too small");
static_assert(sizeof(v17::Sysctl) <= kBitmapOffset, "op slot too small");

std::string Hex(uint32_t v) {
  char b[16];
  snprintf(b, sizeof b, "0x%x", v);
  return b;
}

constexpr const char* kPrivcmdDevice = "/dev/xen/privcmd";

std::string DomainText(uint32_t domid) { return "domain " + std::to_string(domid); }

// Map a failed call to the error users see: a missing domain is the one failure
// callers routinely branch on, everything else names the call and the errno.
[[noreturn]] void Fail(const std::string& what, uint32_t domid, long r, bool hasDomain) {
  int e = static_cast<int>(-r);
  if (hasDomain && e == ESRCH) {
    throw HvError{"VIR_ERR_NO_DOMAIN", "no domain with id " + std::to_string(domid), e, what,
                  kPrivcmdDevice};
  }
  std::string msg = what + (hasDomain ? " (" + DomainText(domid) + ")" : "") +
                    " failed: " + strerror(e);
  throw HvError{"VIR_ERR_XEN_CALL", msg, e, what, kPrivcmdDevice};
}

std::vector<uint32_t> Candidates(const std::vector<uint32_t>& given, bool domctl) {
  if (!given.empty()) return given;
  std::vector<uint32_t> out;
  for (const auto& row : kInterfaceVersions) {
    uint32_t v = domctl ? row.domctl : row.sysctl;
    bool seen = false;
    for (uint32_t o : out) seen = seen || o == v;
    if (!seen) out.push_back(v);
  }
  return out;
}

std::string ListText(const std::vector<uint32_t>& vs) {
  std::string s;
  for (uint32_t v : vs) s += (s.empty() ? "" : ", ") + Hex(v);
  return s;
}

}  // namespace

const char* LayoutName(Layout l) {
  switch (l) {
    case Layout::kV13: return "v13";
    case Layout::kV16: return "v16";
    case Layout::kV17: return "v17";
  }
  return "?";
}

// "0x17 (Xen 4.21, 4.19/4.20), 0x16 (Xen 4.18), …": each version once, with its releases.
std::string KnownVersionsText(bool domctl) {
  std::string s;
  const size_t n = sizeof kInterfaceVersions / sizeof kInterfaceVersions[0];
  for (size_t i = 0; i < n; i++) {
    uint32_t v = domctl ? kInterfaceVersions[i].domctl : kInterfaceVersions[i].sysctl;
    bool seen = false;
    for (size_t j = 0; j < i; j++) {
      seen = seen || (domctl ? kInterfaceVersions[j].domctl : kInterfaceVersions[j].sysctl) == v;
    }
    if (seen) continue;
    std::string releases;
    for (size_t j = i; j < n; j++) {
      if ((domctl ? kInterfaceVersions[j].domctl : kInterfaceVersions[j].sysctl) == v) {
        releases += (releases.empty() ? "" : ", ") + std::string(kInterfaceVersions[j].xen);
      }
    }
    s += (s.empty() ? "" : ", ") + Hex(v) + " (Xen " + releases + ")";
  }
  return s;
}

// The worker page if free, else a page of its own for this call.
class Session::WorkerBuffer {
 public:
  explicit WorkerBuffer(Session& s) : lock_(s.workerMu_, std::try_to_lock) {
    if (lock_.owns_lock()) {
      if (!s.workerBuf_) s.workerBuf_ = s.privcmd_.Alloc(kCallBufferBytes);
      buf_ = s.workerBuf_.get();
    } else {
      own_ = s.privcmd_.Alloc(kCallBufferBytes);
      buf_ = own_.get();
    }
  }
  HypercallBuffer& operator*() { return *buf_; }

 private:
  std::unique_lock<std::mutex> lock_;
  std::unique_ptr<HypercallBuffer> own_;
  HypercallBuffer* buf_ = nullptr;
};

Session::Session(const ProbeOptions& probe) {
  buf_ = privcmd_.Alloc(kCallBufferBytes);
  Probe(probe);
}

long Session::DoDomctl(HypercallBuffer& b, v17::Domctl& d) {
  d.interface_version = domctlVersion_;
  auto* slot = static_cast<v17::Domctl*>(static_cast<void*>(static_cast<uint8_t*>(b.data()) + kOpOffset));
  *slot = d;
  long r = privcmd_.Hypercall(kHypercallDomctl, reinterpret_cast<uintptr_t>(slot));
  d = *slot;
  return r;
}

long Session::DoSysctl(HypercallBuffer& b, v17::Sysctl& s) {
  s.interface_version = sysctlVersion_;
  auto* slot = static_cast<uint8_t*>(b.data()) + kOpOffset;
  memcpy(slot, &s, sizeof s);
  long r = privcmd_.Hypercall(kHypercallSysctl, reinterpret_cast<uintptr_t>(slot));
  memcpy(&s, slot, sizeof s);
  return r;
}

// Xen refuses a domctl/sysctl whose interface version differs from its own with EACCES,
// so asking with each known version in turn finds the one it speaks (as libvirt did).
// Each refused try costs one cheap hypercall, once per open.
void Session::Probe(const ProbeOptions& probe) {
  long ver = privcmd_.Hypercall(kHypercallXenVersion, kXenVerVersion, 0);
  if (ver < 0) Fail("xen_version", 0, ver, false);
  std::string xen = std::to_string(ver >> 16) + "." + std::to_string(ver & 0xffff);
  std::vector<uint32_t> sys = Candidates(probe.sysctl, false);
  std::vector<uint32_t> dom = Candidates(probe.domctl, true);
  std::vector<uint32_t> sysTried, domTried;

  // Nothing fits: a distinct error (reason "interface-unsupported") naming the release
  // and every version tried, so a caller can carry on without the hypervisor layer.
  auto unsupported = [&](const std::string& what) {
    HvError e{"VIR_ERR_XEN_CALL",
              "Xen " + xen + " " + what + "; this xenvirt build knows domctl " +
                  KnownVersionsText(true) + " and sysctl " + KnownVersionsText(false) +
                  ": add the release's row to native/hv_abi.h",
              EACCES, "domctl/sysctl interface probe", kPrivcmdDevice};
    e.reason = "interface-unsupported";
    e.xen = xen;
    e.triedSysctl = sysTried;
    e.triedDomctl = domTried;
    throw e;
  };
  auto denied = [&](long r, const char* call) {
    if (r == -EPERM) {
      throw HvError{"VIR_ERR_NO_XEN",
                    "this domain may not control the hypervisor (not dom0 or lacking "
                    "privilege): Xen " + xen + " answered EPERM",
                    EPERM, call, kPrivcmdDevice};
    }
  };

  bool found = false;
  for (uint32_t v : sys) {
    sysctlVersion_ = v;
    sysTried.push_back(v);
    v17::Sysctl s{};
    s.cmd = kSysctlSchedId;  // small, side-effect free, same in every release
    long r = DoSysctl(*buf_, s);
    if (r == -EACCES) continue;
    denied(r, "sysctl sched_id");
    if (r < 0) Fail("sysctl sched_id (interface probe)", 0, r, false);
    found = true;
    break;
  }
  if (!found) unsupported("refuses every sysctl interface version tried (" + ListText(sysTried) + ")");

  found = false;
  for (uint32_t v : dom) {
    domctlVersion_ = v;
    domTried.push_back(v);
    v17::Domctl d{};
    d.cmd = kDomctlGetDomainInfo;
    d.domain = 0;
    long r = DoDomctl(*buf_, d);
    if (r == -EACCES) continue;
    denied(r, "domctl getdomaininfo");
    if (r < 0 && r != -ESRCH) Fail("domctl getdomaininfo (interface probe)", 0, r, false);
    found = true;
    break;
  }
  if (!found) {
    unsupported("refuses every domctl interface version tried (" + ListText(domTried) +
                "; sysctl " + Hex(sysctlVersion_) + " was accepted)");
  }

  // The pair selects the struct layout: a version outside the table would be read wrongly.
  for (const auto& row : kInterfaceVersions) {
    if (row.sysctl == sysctlVersion_ && row.domctl == domctlVersion_) {
      row_ = &row;
      break;
    }
  }
  if (row_ == nullptr) {
    unsupported("speaks sysctl " + Hex(sysctlVersion_) + " / domctl " + Hex(domctlVersion_) +
                ", a pair this xenvirt build has no struct layout for");
  }
}

XenVersion Session::Version() {
  XenVersion out;
  long v = privcmd_.Hypercall(kHypercallXenVersion, kXenVerVersion, 0);
  if (v < 0) Fail("xen_version", 0, v, false);
  out.major = static_cast<unsigned>(v >> 16);
  out.minor = static_cast<unsigned>(v & 0xffff);
  auto* base = static_cast<char*>(buf_->data());
  char* extra = base + kExtraOffset;
  memset(extra, 0, kXenExtraversionLen);
  long r = privcmd_.Hypercall(kHypercallXenVersion, kXenVerExtraversion,
                              reinterpret_cast<uintptr_t>(extra));
  if (r < 0) Fail("xen_version extraversion", 0, r, false);
  out.extra.assign(extra, strnlen(extra, kXenExtraversionLen));
  char* caps = base + kCapsOffset;
  memset(caps, 0, kXenCapabilitiesLen);
  r = privcmd_.Hypercall(kHypercallXenVersion, kXenVerCapabilities,
                         reinterpret_cast<uintptr_t>(caps));
  if (r < 0) Fail("xen_version capabilities", 0, r, false);
  out.capabilities.assign(caps, strnlen(caps, kXenCapabilitiesLen));
  return out;
}

v17::Physinfo Session::Physinfo() {
  v17::Sysctl s{};
  s.cmd = kSysctlPhysinfo;
  long r = DoSysctl(*buf_, s);
  if (r < 0) Fail("sysctl physinfo", 0, r, false);
  if (row_->layout == Layout::kV17) return s.u.physinfo;
  // Before 4.17 the 64-bit fields sit 8 bytes lower (no arch_capabilities).
  pre17::Physinfo old;
  memcpy(&old, &s.u, sizeof old);
  v17::Physinfo p{};
  p.threads_per_core = old.threads_per_core;
  p.cores_per_socket = old.cores_per_socket;
  p.nr_cpus = old.nr_cpus;
  p.max_cpu_id = old.max_cpu_id;
  p.nr_nodes = old.nr_nodes;
  p.max_node_id = old.max_node_id;
  p.cpu_khz = old.cpu_khz;
  p.capabilities = old.capabilities;
  p.total_pages = old.total_pages;
  p.free_pages = old.free_pages;
  p.scrub_pages = old.scrub_pages;
  p.outstanding_pages = old.outstanding_pages;
  p.max_mfn = old.max_mfn;
  memcpy(p.hw_cap, old.hw_cap, sizeof p.hw_cap);
  return p;
}

uint32_t Session::SchedId() {
  v17::Sysctl s{};
  s.cmd = kSysctlSchedId;
  long r = DoSysctl(*buf_, s);
  if (r < 0) Fail("sysctl sched_id", 0, r, false);
  return s.u.sched_id;
}

void Session::DomainInfoList(uint32_t first, uint32_t max, std::vector<v17::DomainInfo>* out) {
  out->clear();
  // Entries are the release's getdomaininfo size apart (104 bytes before 4.16).
  const size_t stride = DomainInfoSize(row_->layout);
  if (!listBuf_) listBuf_ = privcmd_.Alloc(kListBatch * sizeof(v17::DomainInfo));
  auto* entries = static_cast<uint8_t*>(listBuf_->data());
  while (out->size() < max && first < kFirstReservedDomid) {
    uint32_t want = kListBatch;
    if (max - out->size() < want) want = static_cast<uint32_t>(max - out->size());
    v17::Sysctl s{};
    s.cmd = kSysctlGetDomainInfoList;
    s.u.getdomaininfolist.first_domain = static_cast<uint16_t>(first);
    s.u.getdomaininfolist.max_domains = want;
    s.u.getdomaininfolist.buffer = reinterpret_cast<uintptr_t>(entries);
    long r = DoSysctl(*buf_, s);
    if (r < 0) Fail("sysctl getdomaininfolist", 0, r, false);
    uint32_t n = s.u.getdomaininfolist.num_domains;
    if (n > want) n = want;  // never trust a count past the buffer
    for (uint32_t i = 0; i < n; i++) {
      v17::DomainInfo d{};
      memcpy(&d, entries + i * stride, stride);
      out->push_back(d);
    }
    if (n < want) break;
    first = static_cast<uint32_t>(out->back().domain) + 1;
  }
}

v17::DomainInfo Session::DomainInfo(uint32_t domid) {
  v17::Domctl d{};
  d.cmd = kDomctlGetDomainInfo;
  d.domain = static_cast<uint16_t>(domid);
  long r = DoDomctl(*buf_, d);
  if (r < 0) Fail("domctl getdomaininfo", domid, r, true);
  // Up to 4.17 Xen answers with the next domain at or above the id asked for; from 4.18
  // it answers ESRCH itself (DomainInfoLookup::kExact), so no second look is needed.
  if (row_->lookup == DomainInfoLookup::kNextAtOrAbove && d.u.getdomaininfo.domain != domid) {
    Fail("domctl getdomaininfo", domid, -ESRCH, true);
  }
  return d.u.getdomaininfo;
}

void Session::Pause(uint32_t domid) {
  v17::Domctl d{};
  d.cmd = kDomctlPauseDomain;
  d.domain = static_cast<uint16_t>(domid);
  long r = DoDomctl(*buf_, d);
  if (r < 0) Fail("domctl pausedomain", domid, r, true);
}

void Session::Unpause(uint32_t domid) {
  v17::Domctl d{};
  d.cmd = kDomctlUnpauseDomain;
  d.domain = static_cast<uint16_t>(domid);
  long r = DoDomctl(*buf_, d);
  if (r < 0) Fail("domctl unpausedomain", domid, r, true);
}

void Session::Destroy(uint32_t domid) {
  // A pool thread: not buf_, which the JS thread may be using.
  WorkerBuffer b(*this);
  long r;
  do {
    // Xen returns EAGAIN while it is still tearing the domain down; ask again.
    v17::Domctl d{};
    d.cmd = kDomctlDestroyDomain;
    d.domain = static_cast<uint16_t>(domid);
    r = DoDomctl(*b, d);
  } while (r == -EAGAIN || r == -EINTR);
  if (r < 0) Fail("domctl destroydomain", domid, r, true);
}

void Session::SetMaxMem(uint32_t domid, uint64_t kib) {
  v17::Domctl d{};
  d.cmd = kDomctlMaxMem;
  d.domain = static_cast<uint16_t>(domid);
  d.u.max_memkb = kib;
  long r = DoDomctl(*buf_, d);
  if (r < 0) Fail("domctl max_mem", domid, r, true);
}

void Session::SetMaxVcpus(uint32_t domid, uint32_t max) {
  v17::Domctl d{};
  d.cmd = kDomctlMaxVcpus;
  d.domain = static_cast<uint16_t>(domid);
  d.u.max_vcpus = max;
  long r = DoDomctl(*buf_, d);
  if (r < 0) Fail("domctl max_vcpus", domid, r, true);
}

v17::GetVcpuInfo Session::VcpuInfo(uint32_t domid, uint32_t vcpu) {
  v17::Domctl d{};
  d.cmd = kDomctlGetVcpuInfo;
  d.domain = static_cast<uint16_t>(domid);
  d.u.getvcpuinfo.vcpu = vcpu;
  long r = DoDomctl(*buf_, d);
  if (r < 0) Fail("domctl getvcpuinfo (vcpu " + std::to_string(vcpu) + ")", domid, r, true);
  return d.u.getvcpuinfo;
}

std::vector<VcpuState> Session::Vcpus(uint32_t domid, uint32_t maxVcpuId, uint32_t nrBits,
                                      bool onWorker) {
  size_t bytes = (nrBits + 7) / 8;
  if (bytes == 0 || bytes > kMaxBitmapBytes) {
    throw HvError{"VIR_ERR_INVALID_ARG", "cpu bitmap size out of range", 0};
  }
  std::optional<WorkerBuffer> wb;
  if (onWorker) wb.emplace(*this);
  HypercallBuffer& b = onWorker ? **wb : *buf_;
  auto* map = static_cast<uint8_t*>(b.data()) + kBitmapOffset;
  std::vector<VcpuState> out;
  out.reserve(maxVcpuId + 1);
  for (uint32_t v = 0; v <= maxVcpuId; v++) {
    VcpuState st;
    v17::Domctl d{};
    d.cmd = kDomctlGetVcpuInfo;
    d.domain = static_cast<uint16_t>(domid);
    d.u.getvcpuinfo.vcpu = v;
    long r = DoDomctl(b, d);
    if (r < 0) Fail("domctl getvcpuinfo (vcpu " + std::to_string(v) + ")", domid, r, true);
    st.info = d.u.getvcpuinfo;
    memset(map, 0, bytes);
    d = v17::Domctl{};
    d.cmd = kDomctlGetVcpuAffinity;
    d.domain = static_cast<uint16_t>(domid);
    d.u.vcpuaffinity.vcpu = v;
    d.u.vcpuaffinity.flags = kVcpuAffinityHard;
    d.u.vcpuaffinity.cpumap_hard.bitmap = reinterpret_cast<uintptr_t>(map);
    d.u.vcpuaffinity.cpumap_hard.nr_bits = static_cast<uint32_t>(bytes * 8);
    r = DoDomctl(b, d);
    if (r < 0) Fail("domctl getvcpuaffinity (vcpu " + std::to_string(v) + ")", domid, r, true);
    st.affinity.assign(map, map + bytes);
    out.push_back(std::move(st));
  }
  return out;
}

std::vector<uint8_t> Session::GetVcpuAffinity(uint32_t domid, uint32_t vcpu, uint32_t nrBits) {
  size_t bytes = (nrBits + 7) / 8;
  if (bytes == 0 || bytes > kMaxBitmapBytes) {
    throw HvError{"VIR_ERR_INVALID_ARG", "cpu bitmap size out of range", 0};
  }
  auto* map = static_cast<uint8_t*>(buf_->data()) + kBitmapOffset;
  memset(map, 0, bytes);
  v17::Domctl d{};
  d.cmd = kDomctlGetVcpuAffinity;
  d.domain = static_cast<uint16_t>(domid);
  d.u.vcpuaffinity.vcpu = vcpu;
  d.u.vcpuaffinity.flags = kVcpuAffinityHard;
  d.u.vcpuaffinity.cpumap_hard.bitmap = reinterpret_cast<uintptr_t>(map);
  d.u.vcpuaffinity.cpumap_hard.nr_bits = static_cast<uint32_t>(bytes * 8);
  long r = DoDomctl(*buf_, d);
  if (r < 0) Fail("domctl getvcpuaffinity (vcpu " + std::to_string(vcpu) + ")", domid, r, true);
  return std::vector<uint8_t>(map, map + bytes);
}

std::vector<uint8_t> Session::SetVcpuAffinity(uint32_t domid, uint32_t vcpu,
                                              const std::vector<uint8_t>& in) {
  if (in.empty() || in.size() > kMaxBitmapBytes) {
    throw HvError{"VIR_ERR_INVALID_ARG", "cpu bitmap size out of range", 0};
  }
  auto* map = static_cast<uint8_t*>(buf_->data()) + kBitmapOffset;
  memcpy(map, in.data(), in.size());
  v17::Domctl d{};
  d.cmd = kDomctlSetVcpuAffinity;
  d.domain = static_cast<uint16_t>(domid);
  d.u.vcpuaffinity.vcpu = vcpu;
  d.u.vcpuaffinity.flags = kVcpuAffinityHard;
  d.u.vcpuaffinity.cpumap_hard.bitmap = reinterpret_cast<uintptr_t>(map);
  d.u.vcpuaffinity.cpumap_hard.nr_bits = static_cast<uint32_t>(in.size() * 8);
  long r = DoDomctl(*buf_, d);
  if (r < 0) Fail("domctl setvcpuaffinity (vcpu " + std::to_string(vcpu) + ")", domid, r, true);
  return std::vector<uint8_t>(map, map + in.size());
}

void Session::GetCredit(uint32_t domid, uint32_t schedId, uint16_t* weight, uint16_t* cap) {
  v17::Domctl d{};
  d.cmd = kDomctlSchedulerOp;
  d.domain = static_cast<uint16_t>(domid);
  d.u.scheduler_op.sched_id = schedId;
  d.u.scheduler_op.cmd = kSchedOpGetInfo;
  long r = DoDomctl(*buf_, d);
  if (r < 0) Fail("domctl scheduler_op getinfo", domid, r, true);
  *weight = d.u.scheduler_op.u.credit.weight;
  *cap = d.u.scheduler_op.u.credit.cap;
}

void Session::SetCredit(uint32_t domid, uint32_t schedId, uint16_t weight, uint16_t cap) {
  v17::Domctl d{};
  d.cmd = kDomctlSchedulerOp;
  d.domain = static_cast<uint16_t>(domid);
  d.u.scheduler_op.sched_id = schedId;
  d.u.scheduler_op.cmd = kSchedOpPutInfo;
  d.u.scheduler_op.u.credit.weight = weight;
  d.u.scheduler_op.u.credit.cap = cap;
  long r = DoDomctl(*buf_, d);
  if (r < 0) Fail("domctl scheduler_op putinfo", domid, r, true);
}

}  // namespace hv
}  // namespace xenvirt
