#!/usr/bin/env bash
# Xen 4.20 (Debian 13 "trixie") next to the host's 4.17, for two things:
#  - .cache/xen-headers/trixie: trixie's libxen-dev unpacked (apt-get download + dpkg -x,
#    nothing installed), so test/xen/host/hypervisor-abi.test.ts checks native/hv_abi.h
#    against 4.20's public headers as well as the host's 4.17 ones;
#  - .cache/xen-qemu/rootfs-trixie: a trixie root filesystem made by debootstrap from
#    Debian's packages (Xen 4.20 hypervisor + tools + libxenctrl, Linux 6.12, node 20,
#    busybox) that test/xen/boot-dom0.sh boots as a second dom0 (XQ_ROOTFS).
# A private source list is used; the system's apt sources are left alone. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
for p in debootstrap zstd xz-utils rsync; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${need[@]}"
fi

M=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$M" ] || M=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$M" ] || M=http://deb.debian.org/debian

HDR=.cache/xen-headers/trixie
if [ ! -f "$HDR/usr/include/xen/domctl.h" ]; then
  WORK=$(mktemp -d)
  chmod 755 "$WORK"  # apt's _apt user downloads into it
  trap 'rm -rf "$WORK"' EXIT
  mkdir -p "$WORK/lists/partial"
  echo "deb $M trixie main" > "$WORK/sources.list"
  A=(-o "Dir::Etc::SourceList=$WORK/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$WORK/lists" -o Debug::NoLocking=1)
  apt-get "${A[@]}" update -qq
  (cd "$WORK" && apt-get "${A[@]}" download libxen-dev)
  rm -rf "$HDR.tmp" && mkdir -p "$HDR.tmp"
  dpkg -x "$WORK"/libxen-dev_*.deb "$HDR.tmp"
  dpkg-deb -f "$WORK"/libxen-dev_*.deb Version > "$HDR.tmp/VERSION"
  rm -rf "$HDR" && mv "$HDR.tmp" "$HDR"
  echo "trixie libxen-dev $(cat "$HDR/VERSION") headers in $HDR"
fi

# The root filesystem (test/xen/run.sh would build it on first use too; here CI pays
# for it during setup).
bash test/xen/make-trixie-rootfs.sh .cache/xen-qemu/rootfs-trixie
