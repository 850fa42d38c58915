// privcmd device and hypercall-safe buffers (see hv_privcmd.h).
#include "hv_privcmd.h"

#include <cerrno>
#include <cstring>

#ifndef XENVIRT_NO_XEN
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace xenvirt {
namespace hv {

namespace {
constexpr const char* kPrivcmdPath = "/dev/xen/privcmd";
constexpr const char* kHypercallPath = "/dev/xen/hypercall";

#ifndef XENVIRT_NO_XEN
// Linux's privcmd ABI (include/uapi/xen/privcmd.h): the hypercall number and its five
// register arguments; the ioctl's return value is the hypercall's.
struct PrivcmdHypercall {
  uint64_t op;
  uint64_t arg[5];
};
constexpr unsigned long kIoctlPrivcmdHypercall =
    _IOC(_IOC_NONE, 'P', 0, sizeof(PrivcmdHypercall));
static_assert(sizeof(PrivcmdHypercall) == 48, "privcmd_hypercall is 48 bytes");

size_t RoundToPages(size_t bytes) {
  long page = sysconf(_SC_PAGESIZE);
  size_t p = page > 0 ? static_cast<size_t>(page) : 4096;
  return bytes == 0 ? p : (bytes + p - 1) / p * p;
}
#endif
}  // namespace

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
#ifndef XENVIRT_NO_XEN
    if (fd_ >= 0) close(fd_);
#endif
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Fd::~Fd() {
#ifndef XENVIRT_NO_XEN
  if (fd_ >= 0) close(fd_);
#endif
}

#ifndef XENVIRT_NO_XEN

HypercallBuffer::HypercallBuffer(int hypercallFd, size_t bytes) : len_(RoundToPages(bytes)) {
  if (hypercallFd >= 0) {
    void* p = mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_SHARED, hypercallFd, 0);
    if (p != MAP_FAILED) {
      ptr_ = p;
      device_ = true;
      return;
    }
  }
  // Fallback for kernels without /dev/xen/hypercall: the page must be resident while Xen
  // touches it, and must not become copy-on-write in a forked child.
  void* p = mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    throw HvError{"VIR_ERR_NO_MEMORY", "cannot allocate a hypercall buffer", errno, "mmap"};
  }
  if (mlock(p, len_) != 0) {
    int e = errno;
    munmap(p, len_);
    throw HvError{"VIR_ERR_NO_MEMORY", "cannot lock a hypercall buffer in memory", e, "mlock"};
  }
  madvise(p, len_, MADV_DONTFORK);
  ptr_ = p;
}

HypercallBuffer::~HypercallBuffer() {
  if (ptr_ == nullptr) return;
  if (!device_) munlock(ptr_, len_);
  munmap(ptr_, len_);
}

Privcmd::Privcmd() {
  int fd = open(kPrivcmdPath, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT || e == ENODEV || e == ENXIO) {
      throw HvError{"VIR_ERR_NO_XEN",
                    std::string("not running on Xen: ") + kPrivcmdPath +
                        " is missing (need a Xen dom0 with the xen-privcmd module loaded)",
                    e, "open", kPrivcmdPath};
    }
    if (e == EACCES || e == EPERM) {
      throw HvError{"VIR_ERR_NO_XEN",
                    std::string("permission denied opening ") + kPrivcmdPath +
                        ": hypervisor calls need root in dom0",
                    e, "open", kPrivcmdPath};
    }
    throw HvError{"VIR_ERR_NO_XEN",
                  std::string("cannot open ") + kPrivcmdPath + ": " + strerror(e), e, "open",
                  kPrivcmdPath};
  }
  privcmd_ = Fd(fd);
  hypercallFd_ = Fd(open(kHypercallPath, O_RDWR | O_CLOEXEC));  // optional
}

long Privcmd::Hypercall(unsigned op, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                        uint64_t a4) const {
  PrivcmdHypercall call{op, {a0, a1, a2, a3, a4}};
  long r = ioctl(privcmd_.get(), kIoctlPrivcmdHypercall, &call);
  return r < 0 ? -errno : r;
}

#else  // no Xen on this OS: every entry point reports it the same way

HypercallBuffer::HypercallBuffer(int, size_t) {
  throw HvError{"VIR_ERR_NO_XEN", "Xen hypercalls are only available on Linux", 0};
}
HypercallBuffer::~HypercallBuffer() {}
Privcmd::Privcmd() {
  throw HvError{"VIR_ERR_NO_XEN", "Xen hypercalls are only available on Linux", 0};
}
long Privcmd::Hypercall(unsigned, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) const {
  return -ENOSYS;
}

#endif

}  // namespace hv
}  // namespace xenvirt
