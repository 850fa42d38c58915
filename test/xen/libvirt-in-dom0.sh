#!/usr/bin/env bash
# Start Debian's libvirt 9.0.0 (libvirtd with its libxl and network drivers) inside the
# QEMU-booted Xen dom0: the peers benchmark measures it next to xenvirt, and the suites
# xen-networks / remote-xen drive it (xen:///'s network slot, xen+unix:///system).
#
#   bash test/xen/libvirt-in-dom0.sh start [RUNDIR]   # prints nothing; exit 0 once xen:///system
#                                                    # and network:///system answer (idempotent)
#   bash test/xen/libvirt-in-dom0.sh stop  [RUNDIR]   # exit 0 once libvirtd and virtlogd are gone
#
# Only in dom0: it edits files under /usr, which there live in a RAM overlay that vanishes
# at power-off (on a real host it would damage the installation, so it refuses to run).
# Tweaks (measured, ../shared/docs/xen-on-this-machine.md §6):
# - the emulated CPU lacks VME, so no libvirt CPU model matches and the libxl driver fails
#   ("Cannot find suitable CPU model"): drop the vme feature from the 486 model;
# - the QEMU driver aborts libvirtd's start-up as root (no libvirt-qemu user): remove it.
set -euo pipefail
cmd=${1:-start}
RUN=${2:-/run/xenvirt-libvirt}
say() { echo "libvirt-in-dom0: $*" >&2; }

if [ ! -e /dev/xen/privcmd ] || ! grep -q control_d /proc/xen/capabilities 2>/dev/null; then
  say "not in a Xen dom0 (no /dev/xen/privcmd or control_d capability); refusing to edit the system"
  exit 2
fi

case $cmd in
stop)
  for p in libvirtd virtlogd; do
    [ -f "$RUN/$p.pid" ] || continue
    pid=$(cat "$RUN/$p.pid")
    kill "$pid" 2>/dev/null || true
    # gone before returning, so a start right after cannot find the old socket answering
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$RUN/$p.pid"
  done
  exit 0
  ;;
start) ;;
*) say "usage: $0 start|stop [RUNDIR]"; exit 2 ;;
esac

for t in libvirtd virtlogd virsh dnsmasq; do
  command -v "$t" >/dev/null || { say "missing $t (install with .ci/setup.d/35-libvirt-xen.sh)"; exit 1; }
done
DRIVERS=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver
[ -f "$DRIVERS/libvirt_driver_libxl.so" ] || { say "missing libvirt's libxl driver (libvirt-daemon-driver-xen)"; exit 1; }
[ -f "$DRIVERS/libvirt_driver_network.so" ] || { say "missing libvirt's network driver (libvirt-daemon)"; exit 1; }

sed -i "/<feature name='vme'\/>/d" /usr/share/libvirt/cpu_map/x86_486.xml
rm -f /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so
mkdir -p "$RUN" /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt
printf 'auth_unix_rw = "none"\nauth_unix_ro = "none"\nlog_outputs = "3:file:%s/libvirtd.log"\n' "$RUN" > "$RUN/libvirtd.conf"

answers() { virsh -q -c xen:///system uri >/dev/null 2>&1 && virsh -q -c network:///system net-list --all >/dev/null 2>&1; }
if ! answers; then
  virtlogd -d -p "$RUN/virtlogd.pid"
  libvirtd -d -f "$RUN/libvirtd.conf" -p "$RUN/libvirtd.pid"
  # The socket appears after ~1.2 s there; the libxl driver needs a little longer.
  for _ in $(seq 1 120); do
    answers && break
    sleep 0.5
  done
fi
if ! answers; then
  say "libvirtd did not answer on xen:///system and network:///system within 60 s"
  tail -n 20 "$RUN/libvirtd.log" 2>/dev/null >&2 || true
  exit 1
fi
