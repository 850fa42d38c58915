#!/usr/bin/env bash
# make-trixie-rootfs.sh DIR: a Debian 13 (trixie) root filesystem for boot-dom0.sh's
# XQ_ROOTFS mode, made by debootstrap from Debian's packages (about a minute): Xen 4.20
# hypervisor and tools, libxen-dev (headers + libxenctrl.so for the benchmark's C
# reference, compiled on the host), Linux 6.12, busybox-static, node 20. Uses this
# machine's Debian mirror; built in DIR.tmp and moved into place, so an interrupted build
# never leaves a half-made DIR. Idempotent.
set -euo pipefail
dir=${1:?usage: make-trixie-rootfs.sh DIR}
if [ -x "$dir/usr/sbin/xl" ] && [ -x "$dir/usr/bin/node" ] && [ -e "$dir/usr/include/xenctrl.h" ]; then
  exit 0
fi
for c in debootstrap zstd xz; do
  command -v "$c" >/dev/null || { echo "make-trixie-rootfs: missing $c (.ci/setup.d/35-xen-trixie.sh installs it)" >&2; exit 1; }
done
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
rm -rf "$dir.tmp"
mkdir -p "$(dirname "$dir")"
debootstrap --variant=minbase \
  --include=nodejs,xen-utils-4.20,xen-hypervisor-4.20-amd64,linux-image-amd64,busybox-static,procps,libxen-dev \
  trixie "$dir.tmp" "$mirror" >/dev/null
rm -rf "$dir" && mv "$dir.tmp" "$dir"
echo "make-trixie-rootfs: $dir ready ($(ls "$dir"/boot | tr '\n' ' '))"
