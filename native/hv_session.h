// One open connection to the hypervisor: privcmd, the interface versions the running
// Xen answered to, and a typed method per domctl/sysctl the driver uses. No N-API here:
// hypervisor.cc converts to and from JavaScript, so this stays usable off the JS thread.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "hv_abi.h"
#include "hv_privcmd.h"

namespace xenvirt {
namespace hv {

struct XenVersion {
  unsigned major = 0;
  unsigned minor = 0;
  std::string extra;
  std::string capabilities;
};

struct ProbeOptions {
  // Candidate interface versions, tried in order; empty = this build's table.
  std::vector<uint32_t> sysctl;
  std::vector<uint32_t> domctl;
};

// One vCPU's state and hard affinity (Session::Vcpus).
struct VcpuState {
  v17::GetVcpuInfo info;
  std::vector<uint8_t> affinity;
};

class Session {
 public:
  explicit Session(const ProbeOptions& probe);  // throws HvError

  uint32_t sysctlVersion() const { return sysctlVersion_; }
  uint32_t domctlVersion() const { return domctlVersion_; }
  const char* layout() const { return LayoutName(row_->layout); }
  const InterfaceVersion& row() const { return *row_; }
  bool exactDomainInfo() const { return row_->lookup == DomainInfoLookup::kExact; }
  bool bufferFromDevice() const { return buf_->fromDevice(); }

  XenVersion Version();
  v17::Physinfo Physinfo();
  uint32_t SchedId();
  // Up to `max` domains with id >= first, in id order (batched sysctl getdomaininfolist),
  // into `out` (cleared first; the caller keeps it to reuse its capacity).
  void DomainInfoList(uint32_t first, uint32_t max, std::vector<v17::DomainInfo>* out);
  v17::DomainInfo DomainInfo(uint32_t domid);  // VIR_ERR_NO_DOMAIN when absent
  void Pause(uint32_t domid);
  void Unpause(uint32_t domid);
  // Blocking (Xen may need many continuations): call it off the JS thread.
  void Destroy(uint32_t domid);
  void SetMaxMem(uint32_t domid, uint64_t kib);
  void SetMaxVcpus(uint32_t domid, uint32_t max);
  v17::GetVcpuInfo VcpuInfo(uint32_t domid, uint32_t vcpu);
  // Every vCPU 0..maxVcpuId with its hard affinity (2 hypercalls per vCPU). `onWorker`:
  // called from a libuv pool thread (uses the worker buffer, not the JS thread's).
  std::vector<VcpuState> Vcpus(uint32_t domid, uint32_t maxVcpuId, uint32_t nrBits,
                               bool onWorker);
  std::vector<uint8_t> GetVcpuAffinity(uint32_t domid, uint32_t vcpu, uint32_t nrBits);
  // Returns the effective hard affinity Xen applied.
  std::vector<uint8_t> SetVcpuAffinity(uint32_t domid, uint32_t vcpu,
                                       const std::vector<uint8_t>& map);
  // credit / credit2: weight and cap.
  void GetCredit(uint32_t domid, uint32_t schedId, uint16_t* weight, uint16_t* cap);
  void SetCredit(uint32_t domid, uint32_t schedId, uint16_t weight, uint16_t cap);

 private:
  // Copy `d` into hypercall memory `b`, run it, copy the answer back. Returns the
  // hypercall's result or -errno. The interface version is filled in here.
  long DoDomctl(HypercallBuffer& b, v17::Domctl& d);
  long DoSysctl(HypercallBuffer& b, v17::Sysctl& s);
  void Probe(const ProbeOptions& probe);

  Privcmd privcmd_;
  // Used only from the JS thread that owns this session (each Node environment opens its
  // own); destroy, which runs on the libuv pool, allocates a buffer of its own.
  std::unique_ptr<HypercallBuffer> buf_;      // one page for calls made on the JS thread
  std::unique_ptr<HypercallBuffer> listBuf_;  // getdomaininfolist batches
  // Pool-thread calls (destroy, vcpus) share one more page under a mutex, so they do not
  // map and unmap hypercall memory per call (munmap costs every CPU a TLB flush);
  // a call that finds it busy maps its own.
  class WorkerBuffer;
  std::mutex workerMu_;
  std::unique_ptr<HypercallBuffer> workerBuf_;
  uint32_t sysctlVersion_ = 0;
  uint32_t domctlVersion_ = 0;
  const InterfaceVersion* row_ = nullptr;  // set by Probe, never null afterwards
};

// The table of interface versions as text, for messages: "0x15 (4.17), …".
std::string KnownVersionsText(bool domctl);

}  // namespace hv
}  // namespace xenvirt
