// Binary layouts of the Xen hypercall interface that the hypervisor module speaks.
//
// Written from the public headers of Debian's libxen-dev for Xen 4.17
// (/usr/include/xen/{xen,domctl,sysctl,version}.h, MIT) and kept here so the addon
// builds without those headers. test/xen/host/hypervisor-abi.test.ts compiles the real
// headers and compares every offset and size below with them, so a typo cannot hide.
//
// Adding a Xen release: if its domctl/sysctl structs used here are unchanged, add one
// row to kInterfaceVersions. If a struct changed, add a new layout namespace next to
// `v17` and a row that names it; the probe in hv_session.cc picks the row that answers.
#pragma once
#include <cstddef>
#include <cstdint>

namespace xenvirt {
namespace hv {

// Hypercall numbers (xen.h). Stable across releases.
constexpr unsigned kHypercallXenVersion = 17;
constexpr unsigned kHypercallSysctl = 35;
constexpr unsigned kHypercallDomctl = 36;

// xen_version sub-ops (version.h).
constexpr unsigned kXenVerVersion = 0;
constexpr unsigned kXenVerExtraversion = 1;
constexpr unsigned kXenVerCapabilities = 3;
constexpr size_t kXenExtraversionLen = 16;
constexpr size_t kXenCapabilitiesLen = 1024;

// domctl ops (domctl.h).
constexpr uint32_t kDomctlDestroyDomain = 2;
constexpr uint32_t kDomctlPauseDomain = 3;
constexpr uint32_t kDomctlUnpauseDomain = 4;
constexpr uint32_t kDomctlGetDomainInfo = 5;
constexpr uint32_t kDomctlSetVcpuAffinity = 9;
constexpr uint32_t kDomctlMaxMem = 11;
constexpr uint32_t kDomctlGetVcpuInfo = 14;
constexpr uint32_t kDomctlMaxVcpus = 15;
constexpr uint32_t kDomctlSchedulerOp = 16;
constexpr uint32_t kDomctlGetVcpuAffinity = 25;

// sysctl ops (sysctl.h).
constexpr uint32_t kSysctlPhysinfo = 3;
constexpr uint32_t kSysctlSchedId = 4;
constexpr uint32_t kSysctlGetDomainInfoList = 6;

// Domain flags (XEN_DOMINF_*), scheduler ids and affinity flags.
constexpr uint32_t kDomInfDying = 1u << 0;
constexpr uint32_t kDomInfHvm = 1u << 1;
constexpr uint32_t kDomInfShutdown = 1u << 2;
constexpr uint32_t kDomInfPaused = 1u << 3;
constexpr uint32_t kDomInfBlocked = 1u << 4;
constexpr uint32_t kDomInfRunning = 1u << 5;
constexpr uint32_t kSchedulerCredit = 5;
constexpr uint32_t kSchedulerCredit2 = 6;
constexpr uint32_t kSchedOpPutInfo = 0;
constexpr uint32_t kSchedOpGetInfo = 1;
constexpr uint32_t kVcpuAffinityHard = 1u << 0;

// Domain ids at and above this are reserved (DOMID_FIRST_RESERVED).
constexpr uint32_t kFirstReservedDomid = 0x7FF0;

// The interface versions this build knows, newest first. `layout` names the struct
// set below that matches them.
struct InterfaceVersion {
  const char* xen;      // release that introduced this pair (for messages)
  uint32_t sysctl;      // XEN_SYSCTL_INTERFACE_VERSION
  uint32_t domctl;      // XEN_DOMCTL_INTERFACE_VERSION
  const char* layout;   // which layout namespace applies
};
inline constexpr InterfaceVersion kInterfaceVersions[] = {
    {"4.17", 0x15, 0x15, "v17"},
};

// ---- Layout "v17": Xen 4.17 (sysctl 0x15, domctl 0x15), x86_64 ----
namespace v17 {

// XEN_GUEST_HANDLE_64: a guest pointer always stored in 64 bits.
using GuestHandle64 = uint64_t;

struct Bitmap {  // xenctl_bitmap
  GuestHandle64 bitmap;
  uint32_t nr_bits;
  uint32_t pad_;  // tail padding of the C struct, named so we zero it
};

struct DomainInfo {  // xen_domctl_getdomaininfo
  uint16_t domain;
  uint16_t pad1;
  uint32_t flags;
  uint64_t tot_pages;
  uint64_t max_pages;
  uint64_t outstanding_pages;
  uint64_t shr_pages;
  uint64_t paged_pages;
  uint64_t shared_info_frame;
  uint64_t cpu_time;
  uint32_t nr_online_vcpus;
  uint32_t max_vcpu_id;
  uint32_t ssidref;
  uint8_t handle[16];
  uint32_t cpupool;
  uint8_t gpaddr_bits;
  uint8_t pad2[7];
  uint32_t arch_emulation_flags;  // xen_arch_domainconfig (x86)
  uint32_t arch_misc_flags;
};

struct GetVcpuInfo {  // xen_domctl_getvcpuinfo
  uint32_t vcpu;
  uint8_t online;
  uint8_t blocked;
  uint8_t running;
  uint8_t pad_;
  uint64_t cpu_time;
  uint32_t cpu;
  uint32_t pad2_;
};

struct VcpuAffinity {  // xen_domctl_vcpuaffinity
  uint32_t vcpu;
  uint32_t flags;
  Bitmap cpumap_hard;
  Bitmap cpumap_soft;
};

struct SchedulerOp {  // xen_domctl_scheduler_op, credit/credit2 members only
  uint32_t sched_id;
  uint32_t cmd;
  union {
    struct {
      uint16_t weight;
      uint16_t cap;
    } credit;
    uint8_t size_[16];  // the union's real size (vcpus handle + 2 x u32)
  } u;
};

struct Domctl {  // xen_domctl
  uint32_t cmd;
  uint32_t interface_version;
  uint16_t domain;
  uint16_t pad_[3];
  union {
    DomainInfo getdomaininfo;
    VcpuAffinity vcpuaffinity;
    uint64_t max_memkb;  // xen_domctl_max_mem
    GetVcpuInfo getvcpuinfo;
    uint32_t max_vcpus;  // xen_domctl_max_vcpus
    SchedulerOp scheduler_op;
    uint8_t pad[128];
  } u;
};

struct Physinfo {  // xen_sysctl_physinfo
  uint32_t threads_per_core;
  uint32_t cores_per_socket;
  uint32_t nr_cpus;
  uint32_t max_cpu_id;
  uint32_t nr_nodes;
  uint32_t max_node_id;
  uint32_t cpu_khz;
  uint32_t capabilities;
  uint32_t arch_capabilities;
  uint32_t pad;
  uint64_t total_pages;
  uint64_t free_pages;
  uint64_t scrub_pages;
  uint64_t outstanding_pages;
  uint64_t max_mfn;
  uint32_t hw_cap[8];
};

struct GetDomainInfoList {  // xen_sysctl_getdomaininfolist
  uint16_t first_domain;
  uint16_t pad_;
  uint32_t max_domains;
  GuestHandle64 buffer;
  uint32_t num_domains;
  uint32_t pad2_;
};

struct Sysctl {  // xen_sysctl
  uint32_t cmd;
  uint32_t interface_version;
  union {
    Physinfo physinfo;
    uint32_t sched_id;  // xen_sysctl_sched_id
    GetDomainInfoList getdomaininfolist;
    uint8_t pad[128];
  } u;
};

// The numbers the header check compares (keep in step with the test).
static_assert(sizeof(DomainInfo) == 112, "xen_domctl_getdomaininfo is 112 bytes in 4.17");
static_assert(offsetof(DomainInfo, cpu_time) == 56, "cpu_time offset");
static_assert(offsetof(DomainInfo, handle) == 76, "handle offset");
static_assert(offsetof(Domctl, u) == 16, "xen_domctl.u offset");
static_assert(sizeof(Domctl) == 144, "xen_domctl size");
static_assert(offsetof(Sysctl, u) == 8, "xen_sysctl.u offset");
static_assert(sizeof(Sysctl) == 136, "xen_sysctl size");
static_assert(sizeof(Physinfo) == 112, "physinfo size");
static_assert(sizeof(GetVcpuInfo) == 24, "getvcpuinfo size");
static_assert(sizeof(VcpuAffinity) == 40, "vcpuaffinity size");
static_assert(sizeof(SchedulerOp) == 24, "scheduler_op size");

}  // namespace v17
}  // namespace hv
}  // namespace xenvirt
