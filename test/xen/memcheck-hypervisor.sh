#!/usr/bin/env bash
# Memory check of the native hypervisor layer under valgrind, INSIDE dom0 (real Xen):
#   bash test/xen/boot-dom0.sh bash test/xen/memcheck-hypervisor.sh [ROUNDS]
# Creates one guest with xl, runs memcheck-hypervisor.mjs under valgrind, fails on any
# invalid access or definite/indirect leak whose stack passes through xenvirt.node.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-100}
command -v valgrind >/dev/null || { echo "memcheck: valgrind missing" >&2; exit 1; }
[ -f /dev/xen/privcmd ] || [ -c /dev/xen/privcmd ] || { echo "memcheck: not in dom0" >&2; exit 1; }
cfg=/tmp/memcheck-guest.cfg
cat > "$cfg" <<CFG
name = "memcheck"
type = "pv"
kernel = "$XQ_GUEST_KERNEL"
ramdisk = "$XQ_GUEST_INITRD"
extra = "console=hvc0 xq.role=domu quiet"
memory = 128
vcpus = 1
CFG
xl create "$cfg" >/dev/null
domid=$(xl domid memcheck)
LOG=/tmp/memcheck-hv.log
set +e
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
  --num-callers=30 --log-file="$LOG" \
  node test/xen/memcheck-hypervisor.mjs "${XENVIRT_NATIVE_PATH:-$PWD/build/Release/xenvirt.node}" "$domid" "$ROUNDS"
rc=$?
set -e
grep -E "ERROR SUMMARY|definitely lost:|indirectly lost:" "$LOG" | sed 's/^==[0-9]*== //'
[ $rc -eq 0 ] || { echo "memcheck: workload failed (exit $rc)" >&2; tail -40 "$LOG" >&2; exit 1; }
ours=$(sed 's/^==[0-9]*== \{0,1\}//' "$LOG" |
  awk -v RS= '/xenvirt\.node/ && (/Invalid|uninitialised|definitely lost|indirectly lost|Mismatched|free\(\)/)')
if [ -n "$ours" ]; then
  echo "memcheck: problems in the xenvirt addon:" >&2
  echo "$ours" >&2
  exit 1
fi
echo "memcheck: no invalid access or leak in xenvirt.node"
