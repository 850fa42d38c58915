// Binary layouts of the Xen hypercall interface that the hypervisor module speaks.
//
// Written from the public headers of Debian's libxen-dev for Xen 4.17
// (/usr/include/xen/{xen,domctl,sysctl,version}.h, MIT) and kept here so the addon
// builds without those headers. test/xen/host/hypervisor-abi.test.ts compiles the real
// headers and compares every offset and size below with them, so a typo cannot hide.
//
// Adding a Xen release: if its domctl/sysctl structs used here are unchanged, add one
// row to kInterfaceVersions. If a struct changed, add a Layout value, the struct that
// differs, and a row that names it; the probe in hv_session.cc picks the row that answers.
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

// Struct layouts. Of everything xenvirt reads, only two things moved between 4.13 and
// 4.22 (checked by compiling this file's offsets against each RELEASE-4.x.0 tag's
// xen/include/public headers, 2026-12-03):
//  - xen_domctl_getdomaininfo gained `gpaddr_bits` in 4.16 (sysctl 0x14): 104 -> 112
//    bytes. Every field we read keeps its offset; what changes is the stride of the
//    getdomaininfolist array.
//  - xen_sysctl_physinfo gained `arch_capabilities` (+pad) in 4.17 (sysctl 0x15): the
//    64-bit fields from total_pages on move up 8 bytes, 104 -> 112 bytes.
// getvcpuinfo, vcpuaffinity, scheduler_op (credit), max_mem, max_vcpus, pause/unpause/
// destroy, getdomaininfolist and the op numbers are identical in all of them.
enum class Layout : uint8_t {
  kV13,  // 4.13-4.15: getdomaininfo 104 bytes, physinfo without arch_capabilities
  kV16,  // 4.16: getdomaininfo 112 bytes, physinfo without arch_capabilities
  kV17,  // 4.17 on: getdomaininfo 112 bytes, physinfo with arch_capabilities (namespace v17)
};

// Semantics of XEN_DOMCTL_getdomaininfo for an id with no domain.
enum class DomainInfoLookup : uint8_t {
  kNextAtOrAbove,  // up to domctl 0x15: answers with the next domain id >= the one asked
  kExact,          // domctl 0x16 on (Xen 4.18, commit 31c6554974 "Modify
                   // XEN_DOMCTL_getdomaininfo to fail if domid is not found"): ESRCH
};

// The interface versions this build knows, newest first: the probe in hv_session.cc
// tries them in this order and the pair the running Xen accepts selects the row.
// Versions are XEN_{SYS,DOM}CTL_INTERFACE_VERSION of the release's public headers.
struct InterfaceVersion {
  const char* xen;      // release(s) with this pair (for messages)
  uint32_t sysctl;      // XEN_SYSCTL_INTERFACE_VERSION
  uint32_t domctl;      // XEN_DOMCTL_INTERFACE_VERSION
  Layout layout;
  DomainInfoLookup lookup;
};
// ONE table. Source of each row: xen/include/public/{domctl,sysctl}.h at the tag named,
// in github.com/xen-project/xen; rows marked Debian are also checked on every test run
// against that Debian release's libxen-dev (test/xen/host/hypervisor-abi.test.ts).
inline constexpr InterfaceVersion kInterfaceVersions[] = {
    // RELEASE-4.22.0: domctl 0x18 (Arm MPU domain property), sysctl 0x16.
    {"4.22", 0x16, 0x18, Layout::kV17, DomainInfoLookup::kExact},
    // RELEASE-4.21.0: sysctl 0x16 (livepatch list buffer size), domctl 0x17.
    {"4.21", 0x16, 0x17, Layout::kV17, DomainInfoLookup::kExact},
    // RELEASE-4.19.0 and RELEASE-4.20.0: domctl 0x17 (Arm dt_overlay), sysctl 0x15.
    // Debian 13 trixie and sid: libxen-dev 4.20.4 (measured in dom0: 4.20 refuses domctl
    // 0x15 and 0x16 with EACCES).
    {"4.19/4.20", 0x15, 0x17, Layout::kV17, DomainInfoLookup::kExact},
    // RELEASE-4.18.0: domctl 0x16 (getdomaininfo exact: commit bdb1184d4f), sysctl 0x15.
    {"4.18", 0x15, 0x16, Layout::kV17, DomainInfoLookup::kExact},
    // RELEASE-4.17.0: domctl 0x15, sysctl 0x15 (physinfo arch_capabilities).
    // Debian 12 bookworm: libxen-dev 4.17.x.
    {"4.17", 0x15, 0x15, Layout::kV17, DomainInfoLookup::kNextAtOrAbove},
    // RELEASE-4.16.0: domctl 0x14, sysctl 0x14 (getdomaininfo gpaddr_bits).
    {"4.16", 0x14, 0x14, Layout::kV16, DomainInfoLookup::kNextAtOrAbove},
    // RELEASE-4.15.0: domctl 0x13 (XEN_DOMCTL_disable_migrate removed), sysctl 0x13.
    {"4.15", 0x13, 0x13, Layout::kV13, DomainInfoLookup::kNextAtOrAbove},
    // RELEASE-4.14.0: domctl 0x12, sysctl 0x13 (livepatch buildid override).
    {"4.14", 0x13, 0x12, Layout::kV13, DomainInfoLookup::kNextAtOrAbove},
    // RELEASE-4.13.0: domctl 0x12, sysctl 0x12.
    {"4.13", 0x12, 0x12, Layout::kV13, DomainInfoLookup::kNextAtOrAbove},
};

const char* LayoutName(Layout l);

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

// ---- Layouts before 4.17: only the structs that differ from v17 ----
namespace pre17 {

// xen_sysctl_physinfo of 4.13-4.16 (sysctl <= 0x14): no arch_capabilities.
struct Physinfo {
  uint32_t threads_per_core;
  uint32_t cores_per_socket;
  uint32_t nr_cpus;
  uint32_t max_cpu_id;
  uint32_t nr_nodes;
  uint32_t max_node_id;
  uint32_t cpu_khz;
  uint32_t capabilities;
  uint64_t total_pages;
  uint64_t free_pages;
  uint64_t scrub_pages;
  uint64_t outstanding_pages;
  uint64_t max_mfn;
  uint32_t hw_cap[8];
};
// Numbers from RELEASE-4.13.0..4.16.0 headers.
static_assert(sizeof(Physinfo) == 104, "physinfo is 104 bytes before 4.17");
static_assert(offsetof(Physinfo, total_pages) == 32, "physinfo.total_pages before 4.17");
static_assert(offsetof(Physinfo, hw_cap) == 72, "physinfo.hw_cap before 4.17");

// sizeof(xen_domctl_getdomaininfo) in 4.13-4.15 (no gpaddr_bits): the stride of
// getdomaininfolist entries. The fields xenvirt reads sit where v17 has them.
constexpr size_t kDomainInfoSize413 = 104;

}  // namespace pre17

// Bytes per getdomaininfolist entry for a layout.
constexpr size_t DomainInfoSize(Layout l) {
  return l == Layout::kV13 ? pre17::kDomainInfoSize413 : sizeof(v17::DomainInfo);
}
static_assert(offsetof(v17::DomainInfo, cpupool) + sizeof(uint32_t) <= pre17::kDomainInfoSize413,
              "every field read from a 4.13 getdomaininfo entry lies inside its 104 bytes");
}  // namespace hv
}  // namespace xenvirt
