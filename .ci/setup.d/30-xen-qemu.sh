#!/usr/bin/env bash
# Host packages for `npm run test:xen`: QEMU boots Debian's Xen 4.17 with a Linux dom0
# (test/xen/run.sh); dom0 runs the host's own Xen tools, node and libxenctrl over a
# read-only 9p share, so they are installed here, on the host. The hypervisor and kernel
# .debs are fetched by the harness itself (apt-get download, cached in .cache/xen-qemu/).
# libxen-dev: public headers for native/hv_* layouts and libxenctrl for the benchmark's
# C reference program.
set -euo pipefail
pkgs=(qemu-system-x86 busybox-static cpio xz-utils xen-utils-4.17 xenstore-utils libxen-dev gcc)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
fi
