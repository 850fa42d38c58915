// The two kernel objects every hypercall needs, each owned by one RAII class:
// the privcmd file descriptor that forwards hypercalls to Xen, and hypercall-safe memory
// the hypervisor may read and write while the call runs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace xenvirt {
namespace hv {

// Raised by this layer; hypervisor.cc turns it into a VirError with the same fields.
struct HvError {
  const char* code;  // VIR_ERR_* name
  std::string message;
  int err;  // errno, 0 when none
  std::string call = "";   // the failing system or hypercall, e.g. "open", "domctl getdomaininfo"
  std::string path = "";   // the device involved, when one is
  const char* reason = nullptr;  // machine-readable kind, e.g. "interface-unsupported"
  std::string xen = "";    // Xen release that answered ("4.20"), when known
  std::vector<uint32_t> triedSysctl = {};
  std::vector<uint32_t> triedDomctl = {};
};

// An owned file descriptor (closed exactly once).
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept;
  ~Fd();
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Memory Xen can access during a hypercall. Preferably pages mapped from
// /dev/xen/hypercall (Linux >= 4.18: the kernel keeps them resident and never migrates
// them); otherwise anonymous memory locked in RAM and excluded from fork().
class HypercallBuffer {
 public:
  HypercallBuffer(int hypercallFd, size_t bytes);  // throws HvError
  HypercallBuffer(const HypercallBuffer&) = delete;
  HypercallBuffer& operator=(const HypercallBuffer&) = delete;
  ~HypercallBuffer();
  void* data() const { return ptr_; }
  size_t size() const { return len_; }
  bool fromDevice() const { return device_; }

 private:
  void* ptr_ = nullptr;
  size_t len_ = 0;
  bool device_ = false;
};

// The open privcmd device plus the optional /dev/xen/hypercall allocator.
class Privcmd {
 public:
  Privcmd();  // throws HvError (VIR_ERR_NO_XEN) when Xen's control device is missing
  // Issue one hypercall. Returns its non-negative result, or -errno.
  long Hypercall(unsigned op, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0,
                 uint64_t a3 = 0, uint64_t a4 = 0) const;
  std::unique_ptr<HypercallBuffer> Alloc(size_t bytes) const {
    return std::make_unique<HypercallBuffer>(hypercallFd_.get(), bytes);
  }

 private:
  Fd privcmd_;
  Fd hypercallFd_;  // may be invalid: then buffers are locked anonymous memory
};

}  // namespace hv
}  // namespace xenvirt
