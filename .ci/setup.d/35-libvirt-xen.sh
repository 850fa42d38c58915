#!/usr/bin/env bash
# The `peers` benchmark (run by `npm run test:xen` inside the QEMU-booted dom0) measures
# libvirt 9.0.0 with its libxl driver next to xenvirt: libvirtd and virtlogd, virsh, and
# libvirt-dev to build its C client (benchmarks/peers/libvirt-peer.c). dom0 sees the host's
# files, so installing them here is what makes them available there. The host never starts
# libvirtd (test/xen/libvirt-in-dom0.sh refuses to run outside a dom0).
set -euo pipefail
need=()
for p in libvirt-daemon-driver-xen libvirt-daemon libvirt-clients libvirt-dev gcc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  # --no-install-recommends: no dnsmasq, qemu or firewall pulled in with the daemon.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}"
fi
