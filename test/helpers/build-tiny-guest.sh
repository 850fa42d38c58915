#!/usr/bin/env bash
# Builds a tiny x86-64 guest for QEMU/KVM tests through libvirt: Debian's kernel (bzImage,
# booted directly with <kernel>) and a busybox-static initramfs whose init prints
# "XENVIRT-GUEST tick N" on ttyS0 every second and powers off when the ACPI power button is
# pressed (virDomainShutdown), so shutdown works without acpid or a guest agent.
#
# Usage: build-tiny-guest.sh OUTDIR    -> OUTDIR/vmlinuz, OUTDIR/initrd.gz (skipped if present)
# Kernel .deb: the newest linux-image-6.1.*-amd64 in $TINY_GUEST_DEB_DIR (default: the Xen
# harness's .cache/xen-qemu/debs), else fetched there with `apt-get download`.
set -euo pipefail
out=${1:?usage: build-tiny-guest.sh OUTDIR}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
debs=${TINY_GUEST_DEB_DIR:-$repo/.cache/xen-qemu/debs}
die() { echo "build-tiny-guest: $*" >&2; exit 1; }

bb=$(command -v busybox) || die "busybox missing (apt-get install busybox-static)"
ldd "$bb" >/dev/null 2>&1 && die "$bb is dynamically linked; install busybox-static"
command -v cpio >/dev/null || die "cpio missing"

mkdir -p "$debs" "$out"
# One build at a time (test files run in parallel and share the cache).
exec 9>"$out/.lock"
flock 9
deb=$(ls -1 "$debs"/linux-image-6.1.*-amd64_*.deb 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$deb" ]; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6\./ {print $2; exit}')
  [ -n "$pkg" ] || die "cannot tell which linux-image package linux-image-amd64 means"
  (cd "$debs" && apt-get download "$pkg" >&2) || die "apt-get download $pkg failed"
  deb=$(ls -1 "$debs"/linux-image-6.1.*-amd64_*.deb | sort -V | tail -n1)
fi

# Rebuilt when this script or the kernel changes.
stamp="$(basename "$deb") $(md5sum < "${BASH_SOURCE[0]}" | cut -c1-8)"
[ -s "$out/vmlinuz" ] && [ -s "$out/initrd.gz" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ] && exit 0
mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg -x "$deb" "$tmp/k"
kver=$(ls "$tmp/k/lib/modules")
busybox depmod -b "$tmp/k" "$kver"
R=$tmp/root
mkdir -p "$R"/{bin,sbin,proc,sys,dev,tmp,lib/modules/$kver}
cp "$bb" "$R/bin/busybox"
for m in $("$bb" --list); do [ "$m" = busybox ] || ln -s busybox "$R/bin/$m"; done
ln -s ../bin/busybox "$R/sbin/poweroff"
# The power button (ACPI button) and its input device (evdev) are modules in Debian's kernel,
# as is the virtio NIC (virtio_net and what it depends on, listed by modules.dep).
for m in button evdev virtio_pci virtio_net; do
  # The module's modules.dep line names it and everything it needs.
  for f in $(grep -E "/$m\.ko(\.xz)?:" "$tmp/k/lib/modules/$kver/modules.dep" | tr -d ':'); do
    mkdir -p "$R/lib/modules/$kver/$(dirname "$f")"
    cp "$tmp/k/lib/modules/$kver/$f" "$R/lib/modules/$kver/$f"
  done
done
cp "$tmp/k/lib/modules/$kver"/modules.{builtin,order} "$R/lib/modules/$kver/"
busybox depmod -b "$R" "$kver"
cat > "$R/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
modprobe button; modprobe evdev
echo "XENVIRT-GUEST up"
# Any event from the "Power Button" input device means virDomainShutdown: power off.
# devtmpfs creates the device node asynchronously; ticks start only once it is watched,
# so a test that has seen a tick knows a shutdown request will be noticed.
for e in /sys/class/input/event*; do
  if grep -q 'Power Button' "$e/device/name" 2>/dev/null; then
    node=/dev/input/${e##*/}
    (
      while [ ! -e "$node" ]; do sleep 0.1; done
      touch /tmp/power-button-watched
      head -c 1 "$node" >/dev/null && echo "XENVIRT-GUEST power button" && poweroff -f
    ) &
  fi
done
# A virtio NIC, if the domain has one: ask for a DHCP lease and print it on the console.
modprobe virtio_pci 2>/dev/null; modprobe virtio_net 2>/dev/null
if [ -e /sys/bus/virtio/drivers/virtio_net ] && ls /sys/bus/virtio/drivers/virtio_net | grep -q virtio; then
  i=0; while ! ip link show eth0 >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  ip link set eth0 up
  printf '#!/bin/sh\n[ "$1" = bound ] && echo "XENVIRT-GUEST lease $ip" > /dev/console || true\n' > /tmp/lease.sh
  chmod 755 /tmp/lease.sh
  udhcpc -i eth0 -q -n -t 10 -T 2 -s /tmp/lease.sh >/dev/null 2>&1 || echo "XENVIRT-GUEST no lease" > /dev/console &
else
  echo "XENVIRT-GUEST no virtio NIC"
fi
i=0
while [ ! -e /tmp/power-button-watched ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -e /tmp/power-button-watched ] || echo "XENVIRT-GUEST no power button: shutdown will not work"
n=0
while :; do n=$((n + 1)); echo "XENVIRT-GUEST tick $n"; sleep 1; done
INIT
chmod 755 "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) > "$tmp/initrd.gz"
cp "$tmp"/k/boot/vmlinuz-* "$tmp/vmlinuz"
chmod 644 "$tmp/vmlinuz" "$tmp/initrd.gz"
mv -f "$tmp/vmlinuz" "$out/vmlinuz"
mv -f "$tmp/initrd.gz" "$out/initrd.gz"
echo "$stamp" > "$out/stamp"
