#!/bin/bash
# run-in-dom0.sh -- run a command inside a Xen dom0 that is booted, for this
# one command, under QEMU on this (non-Xen) host.
#
#   usage: run-in-dom0.sh [--] COMMAND [ARGS...]
#   e.g.   run-in-dom0.sh node -e 'console.log(require("fs").existsSync("/dev/xen/privcmd"))'
#          run-in-dom0.sh sh -c 'xl info && xenstore-ls'
#
# What it does
#   1. (once, cached in $XQ_CACHE) extracts Debian's Xen 4.17 hypervisor and
#      the Debian 6.1 kernel from their .debs (dpkg -x, nothing is installed on
#      the host) and builds a busybox-static initramfs holding the few kernel
#      modules dom0 needs (xenfs, xen-privcmd, xen-evtchn, xen-gntdev, 9p, ...).
#   2. boots QEMU: Xen as multiboot kernel (-kernel xen, -initrd "kernel
#      args,initrd.gz"; kernel = the decompressed ELF vmlinux), Linux as 64-bit
#      PV dom0 on hvc0, Xen console on COM1, which QEMU writes to a log file.
#   3. in dom0 the initramfs mounts the host filesystem ($XQ_SHARE, default /)
#      read-only over virtio-9p, puts a tmpfs overlay on top (so everything is
#      writable, writes go to dom0 RAM and are thrown away), chroots into it,
#      mounts /proc/xen (xenfs), starts the host's oxenstored (or xenstored),
#      xen-init-dom0 and xenconsoled, then runs COMMAND there in the same
#      working directory and with the same environment as on the host.
#   4. COMMAND's stdout/stderr/exit status are written to a second, writable
#      9p share (a per-run temp dir on the host); dom0 then powers off (ACPI S5
#      through Xen), QEMU exits, and this script prints stdout/stderr and exits
#      with COMMAND's status.
#
# Exit status: COMMAND's status; 124 on timeout; 125 if the VM never produced
# a status (boot failure, crash, ...) -- the console log is then printed.
#
# Host requirements (Debian bookworm): qemu-system-x86 busybox-static cpio
# xen-utils-4.17 xenstore-utils (the tools run *inside* dom0 from the host fs),
# plus the .debs of xen-hypervisor-4.17-amd64 and linux-image-6.1.*-amd64 in
# $XQ_DEB_DIR (fetched with `apt-get download` if absent).  Root is not needed
# for TCG (but dom0 can then only read what the calling user can read);
# KVM needs access to /dev/kvm.
#
# Environment knobs (all optional):
#   XQ_ACCEL=auto|kvm|tcg   auto: KVM if usable (falls back to TCG if the KVM
#                           boot fails before COMMAND started), else TCG
#   XQ_MEM=3072             MiB of RAM for the emulated machine
#   XQ_DOM0_MEM=1536        MiB for dom0 (rest minus Xen overhead is free for domUs)
#   XQ_SMP=2                vCPUs (machine and dom0)
#   XQ_CPU=Nehalem          QEMU CPU model under TCG. Not 'max': with -cpu max, node
#                           processes started in dom0 while a PV guest boots crashed in
#                           9 of 10 tries (SIGSEGV, malloc corruption, before any of our
#                           code ran); with Nehalem none did (test/xen/reliability.sh)
#   XQ_TCG_THREAD=multi     TCG threading
#   XQ_ROOTFS=              boot a Debian root filesystem instead of this host's Xen:
#                           Xen from DIR/boot/xen-4.*-amd64.gz, the kernel from
#                           DIR/boot/vmlinuz-*, modules from DIR/lib/modules (.ko.xz/.zst
#                           unpacked into the initramfs), and DIR becomes dom0's root
#                           (XQ_SHARE); code to run there must be copied into DIR first
#                           (test/xen/releases.sh does; make DIR with make-trixie-rootfs.sh)
#   XQ_TIMEOUT=900          seconds, whole run incl. COMMAND
#   XQ_BOOT_TIMEOUT=300     seconds until dom0 must be ready (xenstored up)
#   XQ_KVM_BOOT_TIMEOUT=120 same, for the KVM attempt of XQ_ACCEL=auto
#   XQ_XENSTORED=oxenstored oxenstored (Debian's default) | xenstored (C)
#   XQ_SHARE=/              host directory that becomes dom0's root (read-only lower layer)
#   XQ_RW_DIR=              host directories (space-separated) mounted read-WRITE at the
#                           same paths in dom0, e.g. for test reports / benchmark results
#   XQ_STREAM=0             1: stream COMMAND's stdout/stderr live (tail -F)
#   XQ_VERBOSE=0            1: copy the serial console (Xen+dom0) to stderr live
#   XQ_LOG=                 path to keep the serial console log at
#   XQ_XEN_ARGS / XQ_LINUX_ARGS  extra hypervisor / dom0 kernel arguments
#   XQ_CACHE=<repo>/.cache/xen-qemu/boot   XQ_DEB_DIR=<repo>/.cache/xen-qemu/debs
#
# Inside dom0 COMMAND also sees XQ_GUEST_KERNEL / XQ_GUEST_INITRD: a kernel and
# a busybox initramfs usable for a tiny PV domU (`xl create` with
# extra="console=hvc0 xq.role=domu"); that guest prints "XQ-DOMU tick N" every
# second on its console and powers off on `xl shutdown`. The Debian kernel
# needs memory >= 128 (64 fails: "segment kernel too large").

set -euo pipefail

XQ_ACCEL=${XQ_ACCEL:-auto}
XQ_MEM=${XQ_MEM:-3072}
XQ_DOM0_MEM=${XQ_DOM0_MEM:-1536}
XQ_SMP=${XQ_SMP:-2}
XQ_TIMEOUT=${XQ_TIMEOUT:-900}
XQ_BOOT_TIMEOUT=${XQ_BOOT_TIMEOUT:-300}
XQ_KVM_BOOT_TIMEOUT=${XQ_KVM_BOOT_TIMEOUT:-120}
XQ_RW_DIR=${XQ_RW_DIR:-}
XQ_XENSTORED=${XQ_XENSTORED:-oxenstored}
XQ_ROOTFS=${XQ_ROOTFS:-}
XQ_SHARE=${XQ_SHARE:-${XQ_ROOTFS:-/}}
XQ_STREAM=${XQ_STREAM:-0}
XQ_VERBOSE=${XQ_VERBOSE:-0}
XQ_LOG=${XQ_LOG:-}
XQ_XEN_ARGS=${XQ_XEN_ARGS:-}
XQ_LINUX_ARGS=${XQ_LINUX_ARGS:-}
# cache next to the project (gitignored .cache/), so CI can keep it between runs
XQ_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -n "$XQ_ROOTFS" ]; then
  XQ_CACHE=${XQ_CACHE:-$XQ_REPO/.cache/xen-qemu/boot-$(basename "$XQ_ROOTFS")}
else
  XQ_CACHE=${XQ_CACHE:-$XQ_REPO/.cache/xen-qemu/boot}
fi
XQ_DEB_DIR=${XQ_DEB_DIR:-$XQ_REPO/.cache/xen-qemu/debs}

say() { echo "run-in-dom0: $*" >&2; }
qesc() { printf '%s' "${1//,/,,}"; }        # QEMU option syntax: ',' -> ',,'
since() { local d=$(( ${EPOCHREALTIME/./} - ${1/./} )); printf '%d.%d' $((d / 1000000)) $((d / 100000 % 10)); }  # s since $1
die() { say "ERROR: $*"; exit 125; }

[ "${1:-}" = "--" ] && shift
[ $# -ge 1 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
[ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ] && { sed -n '2,60p' "$0"; exit 0; }

for t in qemu-system-x86_64 busybox cpio gzip dpkg; do
  command -v "$t" >/dev/null || die "missing host tool: $t"
done
BUSYBOX=$(command -v busybox)
# the initramfs has no libc: busybox must be the static build (busybox-static)
ldd "$BUSYBOX" >/dev/null 2>&1 && die "$BUSYBOX is dynamically linked; install busybox-static"

# ---------------------------------------------------------------------------
# 1. artifacts: xen (gunzipped multiboot ELF32), kernel (ELF vmlinux),
#    initrd.gz (busybox + modules)  -- cached in $XQ_CACHE
# ---------------------------------------------------------------------------
find_deb() {  # $1 = glob for the package file name
  local f
  f=$(ls -1 "$XQ_DEB_DIR"/$1 2>/dev/null | sort -V | tail -n1 || true)
  if [ -z "$f" ]; then
    # not there: fetch it with apt (apt-get download needs no root)
    mkdir -p "$XQ_DEB_DIR"
    local pkg
    case "$1" in
      xen-hypervisor*) pkg=xen-hypervisor-4.17-amd64 ;;
      linux-image*)    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
                             awk '/Depends: linux-image-6\.1/ {print $2; exit}') ;;
    esac
    [ -n "$pkg" ] || die "cannot determine package for $1"
    say "downloading $pkg into $XQ_DEB_DIR"
    (cd "$XQ_DEB_DIR" && apt-get download "$pkg" >&2) || die "apt-get download $pkg failed"
    f=$(ls -1 "$XQ_DEB_DIR"/$1 2>/dev/null | sort -V | tail -n1 || true)
  fi
  [ -n "$f" ] || die "no $1 in $XQ_DEB_DIR"
  echo "$f"
}

# PID 1 of the initramfs (busybox sh). Same image is used for dom0 and for
# test domUs (kernel arg xq.role=domu).
write_init() {
cat > "$1" <<'INIT'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
up() { cut -d' ' -f1 /proc/uptime; }

if grep -q 'xq.role=domu' /proc/cmdline; then
  # ---- tiny test domU: heartbeat on the console, clean poweroff on request
  trap 'echo "XQ-DOMU: poweroff"; poweroff -f' USR2 TERM INT
  echo "XQ-DOMU: alive, uptime $(up)"
  n=0
  while :; do n=$((n+1)); echo "XQ-DOMU tick $n"; sleep 1 & wait $!; done
fi

# ---- dom0
echo "XQ-MARK: dom0-userspace $(up)"
# bridge (+ stp, llc): libvirt's network driver in dom0 makes bridges; the host's
# /lib/modules has no modules for this kernel, so they come with the initramfs.
for m in xen-evtchn xen-privcmd xenfs xen-gntdev xen-gntalloc xen-blkback \
         xen-netback virtio_pci 9pnet_virtio 9p overlay bridge; do
  modprobe "$m" || echo "XQ: modprobe $m failed"
done
ip link set lo up; hostname dom0

# host filesystem, read-only; cache=loose is fine since the host tree is
# not expected to change while the VM runs, and makes exec/stat much faster
mkdir -p /lower /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /lower ||
  { echo "XQ-FAIL: cannot mount host fs over 9p"; poweroff -f; }
mount -t tmpfs -o mode=755 tmpfs /rw
mkdir -p /rw/upper /rw/work
if ! mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot; then
  echo "XQ: overlay failed, using read-only host fs + tmpfs dirs"
  mount --bind /lower /newroot
  for d in tmp var/tmp var/lib/xen var/lib/xenstored var/log; do
    mount -t tmpfs tmpfs /newroot/$d 2>/dev/null
  done
fi
mount -t proc proc /newroot/proc
mount -t xenfs xenfs /newroot/proc/xen
mount -t sysfs sysfs /newroot/sys
mount --move /dev /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
mount -t tmpfs -o mode=755 tmpfs /newroot/run
mkdir -p /newroot/run/xqio /newroot/run/xqcache /newroot/run/lock
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 xqio /newroot/run/xqio ||
  { echo "XQ-FAIL: cannot mount io share"; poweroff -f; }
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro xqcache /newroot/run/xqcache
# read-write host dirs: one 9p tag per line of rwdirs ("tag path")
if [ -s /newroot/run/xqio/rwdirs ]; then
  while read -r tag d; do
    mkdir -p "/newroot$d"
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 "$tag" "/newroot$d" ||
      echo "XQ: cannot mount rw dir $d"
  done < /newroot/run/xqio/rwdirs
fi
echo "$(up)" > /newroot/run/xqio/booted
echo "XQ-MARK: dom0-fs-ready $(up)"

# stage 2 (written by the host script for each run) runs with the host's bash
chroot /newroot /bin/bash /run/xqio/stage2.sh
echo "XQ-MARK: stage2-exit $? $(up)"
sync
umount /newroot/run/xqio 2>/dev/null
poweroff -f     # -> ACPI S5 via Xen -> QEMU exits
INIT
}

# stage 2, runs inside the chroot (host userland, dom0 kernel)
write_stage2() {
cat > "$1" <<'STAGE2'
#!/bin/bash
IO=/run/xqio
up() { cut -d' ' -f1 /proc/uptime; }
mark() { echo "XQ-MARK: $* $(up)" > /dev/console; }
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
V="$(cat /sys/hypervisor/version/major).$(cat /sys/hypervisor/version/minor)"
XENDIR=/usr/lib/xen-$V
[ -d "$XENDIR" ] || { mark "FAIL no $XENDIR on the host fs"; exit 1; }
mkdir -p -m 700 /run/xen
mkdir -p /run/xenstored /var/lib/xenstored /var/lib/xen /var/log/xen/console
export XENSTORED_ROOTDIR=/run/xenstored
XS=$(cat $IO/xenstored)
# both daemonize; --pid-file as in Debian's /etc/init.d/xen
"$XENDIR/bin/$XS" --pid-file /run/xenstore.pid || mark "FAIL $XS exited $?"
for i in $(seq 1 300); do xenstore-read -s / >/dev/null 2>&1 && break; sleep 0.1; done
xenstore-read -s / >/dev/null 2>&1 || { mark "FAIL xenstored not answering"; exit 1; }
"$XENDIR/bin/xen-init-dom0" >/dev/null || mark "WARN xen-init-dom0 failed"
"$XENDIR/bin/xenconsoled" --pid-file /run/xenconsoled.pid \
    --log=guest --log-dir=/var/log/xen/console || mark "WARN xenconsoled failed"
mark ready
echo "$(up)" > $IO/ready
set +e
. $IO/env
export XQ_GUEST_KERNEL=/run/xqcache/kernel XQ_GUEST_INITRD=/run/xqcache/initrd.gz
bash $IO/cmd < /dev/null > $IO/stdout 2> $IO/stderr
rc=$?
echo $rc > $IO/rc.tmp && mv $IO/rc.tmp $IO/rc
mark "command-exit $rc"
sync
exit 0
STAGE2
}

prepare_cache() {
  local xdeb kdeb stamp tmp kver
  xdeb=$(find_deb 'xen-hypervisor-4.17-amd64_*.deb')
  kdeb=$(find_deb 'linux-image-6.1.*-amd64_*.deb')
  stamp="$(basename "$xdeb") $(basename "$kdeb") $(md5sum < "$0" | cut -c1-8)"
  [ -f "$XQ_CACHE/stamp" ] && [ "$(cat "$XQ_CACHE/stamp")" = "$stamp" ] && return 0
  say "building cache in $XQ_CACHE"
  mkdir -p "$XQ_CACHE"
  tmp=$(mktemp -d "$XQ_CACHE/.build.XXXXXX")
  dpkg -x "$xdeb" "$tmp/xen"
  dpkg -x "$kdeb" "$tmp/k"
  # QEMU's multiboot loader wants the uncompressed ELF32 image, not xen.gz
  zcat "$tmp"/xen/boot/xen-4.17-amd64.gz > "$tmp/xen.elf"
  cp "$tmp"/k/boot/vmlinuz-* "$tmp/vmlinuz"
  # Xen also loads a plain ELF vmlinux. Decompressing the bzImage payload here
  # once saves ~3 s per boot under TCG (Xen otherwise un-xz's 60 MB each boot).
  # payload = (setup_sects+1)*512 + payload_offset (boot protocol header)
  local ss po
  ss=$(od -An -tu1 -j 0x1f1 -N1 "$tmp/vmlinuz" | tr -d ' ')
  po=$(od -An -tu4 -j 0x248 -N4 "$tmp/vmlinuz" | tr -d ' ')
  if command -v xz >/dev/null; then
    # xz exits 1 because of the trailing size word; the output is complete
    tail -c +$(( (ss + 1) * 512 + po + 1 )) "$tmp/vmlinuz" | xz -dc > "$tmp/vmlinux" 2>/dev/null || true
  fi
  if [ "$(head -c4 "$tmp/vmlinux" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; then
    mv "$tmp/vmlinux" "$tmp/kernel"
  else
    say "could not decompress the kernel (no xz?), Xen will boot the bzImage"
    cp "$tmp/vmlinuz" "$tmp/kernel"
  fi
  kver=$(ls "$tmp/k/lib/modules")
  busybox depmod -b "$tmp/k" "$kver"        # the .deb ships no modules.dep
  finish_cache "$tmp" "$kver" "$tmp/k/lib/modules/$kver" "$stamp"
}


# Both cache builders end here: build the busybox initramfs with the modules dom0 needs,
# taken from MD (the kernel's module directory; compressed modules are stored plain, as
# busybox modprobe cannot be relied on to unpack them), then move Xen, the kernel and the
# initramfs from TMP into the cache and write its stamp.
finish_cache() {  # $1 = TMP (holds xen.elf and kernel), $2 = kernel version, $3 = MD, $4 = stamp
  local tmp=$1 kver=$2 MD=$3 stamp=$4
  local R=$tmp/root m f
  mkdir -p "$R"/{bin,sbin,proc,sys,dev,tmp,run,lib/modules/$kver}
  cp "$BUSYBOX" "$R/bin/busybox"
  for m in $("$BUSYBOX" --list); do [ "$m" = busybox ] || ln -s busybox "$R/bin/$m"; done
  for m in modprobe poweroff reboot halt init; do ln -s ../bin/busybox "$R/sbin/$m"; done
  for m in xenfs xen-privcmd xen-evtchn xen-gntdev xen-gntalloc xen-blkback xen-netback \
           9p 9pnet_virtio virtio_pci overlay bridge; do
    for f in $(grep -E "/$m\.ko(\.xz|\.zst|\.gz)?:" "$MD/modules.dep" | tr -d ':'); do
      mkdir -p "$R/lib/modules/$kver/$(dirname "$f")"
      case "$f" in
        *.ko.xz)  [ -e "$R/lib/modules/$kver/${f%.xz}" ] || xz -dc "$MD/$f" > "$R/lib/modules/$kver/${f%.xz}" ;;
        *.ko.zst) [ -e "$R/lib/modules/$kver/${f%.zst}" ] || zstd -dcq "$MD/$f" > "$R/lib/modules/$kver/${f%.zst}" ;;
        *.ko.gz)  [ -e "$R/lib/modules/$kver/${f%.gz}" ] || gzip -dc "$MD/$f" > "$R/lib/modules/$kver/${f%.gz}" ;;
        *)        cp -n "$MD/$f" "$R/lib/modules/$kver/$f" ;;
      esac
    done
  done
  cp "$MD"/modules.{builtin,order} "$R/lib/modules/$kver/"
  busybox depmod -b "$R" "$kver"
  write_init "$R/init"; chmod 755 "$R/init"
  (cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) > "$tmp/initrd.gz"
  mv -f "$tmp/xen.elf" "$XQ_CACHE/xen"
  mv -f "$tmp/kernel" "$XQ_CACHE/kernel"
  mv -f "$tmp/initrd.gz" "$XQ_CACHE/initrd.gz"
  rm -rf "$tmp"
  echo "$stamp" > "$XQ_CACHE/stamp"
}


# Decompress a bzImage's payload to a plain ELF vmlinux (Xen loads it without unpacking
# it on every boot). payload = (setup_sects+1)*512 + payload_offset (boot protocol
# header); Debian 6.1 compresses it with xz, 6.12 with zstd: picked by magic.
unpack_vmlinux() {  # $1 = bzImage, $2 = output
  local ss po off magic
  ss=$(od -An -tu1 -j 0x1f1 -N1 "$1" | tr -d ' ')
  po=$(od -An -tu4 -j 0x248 -N4 "$1" | tr -d ' ')
  off=$(( (ss + 1) * 512 + po ))
  magic=$(od -An -tx1 -j "$off" -N4 "$1" | tr -d ' ')
  case "$magic" in
    28b52ffd) command -v zstd >/dev/null && { tail -c +$((off + 1)) "$1" | zstd -dcq > "$2" 2>/dev/null || true; } ;;
    # xz exits 1 because of the trailing size word; the output is complete
    fd377a58) command -v xz >/dev/null && { tail -c +$((off + 1)) "$1" | xz -dc > "$2" 2>/dev/null || true; } ;;
    1f8b*)    tail -c +$((off + 1)) "$1" | gzip -dc > "$2" 2>/dev/null || true ;;
  esac
  [ "$(head -c4 "$2" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]
}

# Like prepare_cache, from a root filesystem: Xen and the kernel from DIR/boot, modules
# read in place (DIR/lib/modules/<ver> has modules.dep).
prepare_cache_rootfs() {
  local xgz vmlinuz stamp tmp kver MD
  xgz=$(ls -1 "$XQ_ROOTFS"/boot/xen-4.*-amd64.gz 2>/dev/null | sort -V | tail -n1)
  vmlinuz=$(ls -1 "$XQ_ROOTFS"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1)
  [ -n "$xgz" ] || die "no $XQ_ROOTFS/boot/xen-4.*-amd64.gz"
  [ -n "$vmlinuz" ] || die "no $XQ_ROOTFS/boot/vmlinuz-*"
  kver=${vmlinuz##*/vmlinuz-}
  MD=$XQ_ROOTFS/lib/modules/$kver
  [ -s "$MD/modules.dep" ] || die "no $MD/modules.dep"
  stamp="$(basename "$xgz") $(basename "$vmlinuz") $(md5sum < "$0" | cut -c1-8)"
  [ -f "$XQ_CACHE/stamp" ] && [ "$(cat "$XQ_CACHE/stamp")" = "$stamp" ] && return 0
  say "building cache in $XQ_CACHE from $XQ_ROOTFS"
  mkdir -p "$XQ_CACHE"
  tmp=$(mktemp -d "$XQ_CACHE/.build.XXXXXX")
  zcat "$xgz" > "$tmp/xen.elf"
  if unpack_vmlinux "$vmlinuz" "$tmp/vmlinux"; then
    mv "$tmp/vmlinux" "$tmp/kernel"
  else
    say "could not decompress the kernel, Xen will boot the bzImage"
    cp "$vmlinuz" "$tmp/kernel"
  fi
  finish_cache "$tmp" "$kver" "$MD" "$stamp"
}

mkdir -p "$XQ_CACHE"
exec 9>"$XQ_CACHE/.lock"
flock 9           # serialise cache building between concurrent runs
if [ -n "$XQ_ROOTFS" ]; then prepare_cache_rootfs; else prepare_cache; fi
flock -u 9

# ---------------------------------------------------------------------------
# 2. per-run directory (shared read-write with dom0 as 9p tag "xqio")
# ---------------------------------------------------------------------------
RUN=$(mktemp -d /tmp/xq-run.XXXXXX)
IO=$RUN/io; mkdir -p "$IO"; chmod 755 "$RUN" "$IO"
LOG=${XQ_LOG:-$RUN/console.log}
QPID=; TAILPIDS=; VTAIL=
cleanup() {
  [ -n "$QPID" ] && kill "$QPID" 2>/dev/null
  for p in $TAILPIDS $VTAIL; do kill "$p" 2>/dev/null; done
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM

write_stage2 "$IO/stage2.sh"
echo "$XQ_XENSTORED" > "$IO/xenstored"
RWDEV=()
n=0
for d in $XQ_RW_DIR; do
  d=$(realpath "$d") && [ -d "$d" ] || die "XQ_RW_DIR entry $d is not a directory"
  echo "xqrw$n $d" >> "$IO/rwdirs"
  RWDEV+=(-fsdev "local,id=rw$n,path=$(qesc "$d"),security_model=none"
          -device "virtio-9p-pci,fsdev=rw$n,mount_tag=xqrw$n")
  n=$((n + 1))
done
# environment: every exported variable except shell internals
for v in $(compgen -e); do
  case $v in PWD|OLDPWD|SHLVL|_|BASHOPTS|SHELLOPTS|BASH_*|HOSTNAME|XQ_*) continue ;; esac
  printf 'export %s=%q\n' "$v" "${!v}"
done > "$IO/env"
chmod 600 "$IO/env"
{ printf 'cd -- %q 2>/dev/null || cd /\n' "$PWD"
  printf 'exec'; printf ' %q' "$@"; printf '\n'; } > "$IO/cmd"

# ---------------------------------------------------------------------------
# 3. boot
# ---------------------------------------------------------------------------
kvm_usable() {
  [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
  # "kvm_pvm" (pagetable-based, no VMX) cannot run Xen: its instruction
  # emulator aborts on Xen's CET/SMAP instructions (KVM internal error).
  [ -d /sys/module/kvm_pvm ] && return 1
  return 0
}

boot() {  # $1 = kvm|tcg ; sets QPID, returns when QEMU exited or timed out
  local accel=$1 cpu xenargs
  xenargs="console=com1 com1=115200,8n1 dom0_mem=${XQ_DOM0_MEM}M,max:${XQ_DOM0_MEM}M"
  xenargs+=" dom0_max_vcpus=$XQ_SMP bootscrub=0 loglvl=all guest_loglvl=all"
  if [ "$accel" = kvm ]; then
    cpu="-accel kvm -cpu host"
  else
    # TCG: QEMU 7.2's SMAP emulation breaks Xen PV (dom0 dies with #PF[0001]
    # in its first instructions) -> tell Xen not to use SMAP. CPU model: see XQ_CPU.
    cpu="-accel tcg,thread=${XQ_TCG_THREAD:-multi} -cpu ${XQ_CPU:-Nehalem}"; xenargs+=" smap=0"
  fi
  xenargs+=" $XQ_XEN_ARGS"
  local linuxargs="console=hvc0 earlyprintk=xen quiet $XQ_LINUX_ARGS"
  : > "$LOG"
  # shellcheck disable=SC2086
  qemu-system-x86_64 $cpu -machine pc -m "$XQ_MEM" -smp "$XQ_SMP" \
    -nodefaults -no-user-config -display none -vga none -no-reboot \
    -serial "file:$LOG" \
    -kernel "$XQ_CACHE/xen" -append "$xenargs" \
    -initrd "$(qesc "$XQ_CACHE/kernel $linuxargs"),$(qesc "$XQ_CACHE/initrd.gz")" \
    -fsdev "local,id=fs0,path=$(qesc "$XQ_SHARE"),security_model=none,readonly=on,multidevs=remap" \
    -device virtio-9p-pci,fsdev=fs0,mount_tag=hostroot \
    -fsdev "local,id=fs1,path=$(qesc "$IO"),security_model=none" \
    -device virtio-9p-pci,fsdev=fs1,mount_tag=xqio \
    -fsdev "local,id=fs2,path=$(qesc "$XQ_CACHE"),security_model=none,readonly=on" \
    -device virtio-9p-pci,fsdev=fs2,mount_tag=xqcache \
    "${RWDEV[@]}" \
    > "$RUN/qemu.out" 2>&1 &
  QPID=$!
}

# wait for QEMU; returns 0 if it exited, 1 on timeout, 2 on KVM error (QEMU killed)
wait_qemu() {  # $1 = accel (for messages)
  local booted_at= user_at=
  while kill -0 "$QPID" 2>/dev/null; do
    now=$SECONDS
    if [ -z "$user_at" ] && grep -q '^XQ-MARK: dom0-userspace' "$LOG" 2>/dev/null; then
      user_at=$now; USER_T=$(since "$TLAUNCH")
    fi
    if [ -z "$booted_at" ] && [ -f "$IO/ready" ]; then
      booted_at=$now; READY_T=$(since "$TLAUNCH")
      say "dom0 userspace after ${USER_T:-?} s, ready (xenstored up) after $READY_T s ($1)"
      if [ "$XQ_STREAM" = 1 ]; then
        tail -n +1 -F --pid="$QPID" "$IO/stdout" 2>/dev/null & TAILPIDS+=" $!"
        tail -n +1 -F --pid="$QPID" "$IO/stderr" >&2 2>/dev/null & TAILPIDS+=" $!"
      fi
    fi
    if [ -z "$booted_at" ] && grep -q 'KVM internal error' "$RUN/qemu.out" 2>/dev/null; then
      # QEMU does not exit on this error, it just stops the vCPU
      say "QEMU reported a KVM internal error ($1), killing QEMU"
      kill "$QPID"; wait "$QPID" 2>/dev/null; QPID=; return 2
    fi
    if [ -z "$booted_at" ] && [ $((now - T0)) -ge "$BOOT_TIMEOUT" ]; then
      say "dom0 not ready after $BOOT_TIMEOUT s ($1), killing QEMU"
      kill "$QPID"; wait "$QPID" 2>/dev/null; QPID=; return 1
    fi
    if [ $((now - T00)) -ge "$XQ_TIMEOUT" ]; then
      say "timeout after $XQ_TIMEOUT s, killing QEMU"
      kill "$QPID"; wait "$QPID" 2>/dev/null; QPID=; return 1
    fi
    sleep 0.2
  done
  wait "$QPID" 2>/dev/null || true
  QPID=
  return 0
}

set +e   # from here on every failure is handled explicitly
T00=$SECONDS; TSTART=$EPOCHREALTIME
case "$XQ_ACCEL" in
  auto) if kvm_usable; then accels="kvm tcg"; else accels=tcg; fi ;;
  kvm|tcg) accels=$XQ_ACCEL ;;
  *) die "XQ_ACCEL must be auto, kvm or tcg" ;;
esac

timed_out=0
if [ "$XQ_VERBOSE" = 1 ]; then
  touch "$LOG"; tail -n +1 -F "$LOG" >&2 2>/dev/null & VTAIL=$!
fi
for accel in $accels; do
  T0=$SECONDS; TLAUNCH=$EPOCHREALTIME; USER_T=; READY_T=
  BOOT_TIMEOUT=$XQ_BOOT_TIMEOUT
  [ "$accel" = kvm ] && [ "$XQ_ACCEL" = auto ] && BOOT_TIMEOUT=$XQ_KVM_BOOT_TIMEOUT
  rm -f "$IO"/{booted,ready,rc,stdout,stderr}
  say "booting Xen + dom0 under QEMU ($accel${XQ_ROOTFS:+, root $XQ_ROOTFS}, cpu ${XQ_CPU:-Nehalem}, ${XQ_MEM}M, dom0 ${XQ_DOM0_MEM}M, $XQ_SMP vCPU)"
  boot "$accel"
  wrc=0; wait_qemu "$accel" || wrc=$?
  [ "$wrc" = 1 ] && timed_out=1
  # fall back to the next accelerator only if COMMAND never started
  [ -f "$IO/ready" ] && break
  if [ "$accel" = kvm ] && [ "$accels" = "kvm tcg" ]; then
    say "KVM boot failed ($(grep -m1 -iE 'error|fail' "$RUN/qemu.out" || echo 'no dom0')), retrying with TCG"
    timed_out=0
  fi
done
for p in $TAILPIDS; do wait "$p" 2>/dev/null || true; done; TAILPIDS=
if [ -n "$VTAIL" ]; then sleep 0.3; kill "$VTAIL" 2>/dev/null; wait "$VTAIL" 2>/dev/null; VTAIL=; fi || true

# ---------------------------------------------------------------------------
# 4. results
# ---------------------------------------------------------------------------
if [ "$XQ_STREAM" != 1 ]; then
  [ -f "$IO/stdout" ] && cat "$IO/stdout"
  [ -f "$IO/stderr" ] && cat "$IO/stderr" >&2
fi
if [ -f "$IO/rc" ]; then
  rc=$(cat "$IO/rc")
  say "command exited with $rc ($accel: dom0 userspace ${USER_T}s, ready ${READY_T}s after QEMU launch; dom0 uptime at ready $(cat "$IO/ready")s; total $(since "$TSTART")s)"
  exit "$rc"
fi
say "no exit status from dom0 (accel=$accel). QEMU said:"
sed 's/^/  qemu: /' "$RUN/qemu.out" >&2
say "last lines of the serial console ($LOG):"
tail -n 40 "$LOG" | sed 's/^/  console: /' >&2
if [ -z "$XQ_LOG" ]; then
  cp "$LOG" "/tmp/xq-failed-console.$$.log"; say "full console log: /tmp/xq-failed-console.$$.log"
fi
[ "$timed_out" = 1 ] && exit 124
exit 125
