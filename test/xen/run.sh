#!/usr/bin/env bash
# `npm run test:xen [-- FILTER…]`: boot Xen 4.17 + a Linux dom0 under QEMU (boot-dom0.sh),
# run the integration suites in test/xen/suites/ (all, or those whose file names match
# FILTER) and the hypervisor benchmark inside dom0 against this tree's own build, and
# exit with their status.
#
# A boot that never reaches dom0 userland, a timeout, or a dom0 process killed by a
# signal is infrastructure, not a test failure: it is retried once and reported as such.
# Env: XENVIRT_XEN_BENCH=0 skips the benchmark; XQ_* knobs go to boot-dom0.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
say() { echo "test:xen: $*" >&2; }

# Missing host pieces: a one-line reason; fatal in CI (.ci/setup.d/30-xen-qemu.sh
# installs them), a skip elsewhere.
missing=
for t in qemu-system-x86_64 busybox cpio xl xenstore-read node; do
  command -v "$t" >/dev/null || missing+=" $t"
done
[ -d /usr/lib/xen-4.17 ] || missing+=" xen-utils-4.17"
if [ -n "$missing" ]; then
  say "cannot run: missing host tools:$missing (install with .ci/setup.d/30-xen-qemu.sh)"
  [ "${CI:-}" = true ] && exit 1
  exit 0
fi

# The addon dom0 loads is the host's build (the tree is shared read-only).
addon=build/Release/xenvirt.node
if [ ! -f "$addon" ] || [ -n "$(find native -newer "$addon" -name '*.cc' -o -newer "$addon" -name '*.h' | head -n1)" ]; then
  say "building the native addon"
  npm run --silent build:native >/dev/null || { say "native build failed"; exit 1; }
fi

# One run at a time on this machine (QEMU takes both cores), and a results directory of
# its own: a second run must never delete or overwrite files the first one's dom0 uses.
BASE=$REPO/.cache/xen-qemu
mkdir -p "$BASE/results" benchmarks/results
exec 8>"$BASE/run.lock"
if ! flock -n 8; then
  say "another test:xen run holds $BASE/run.lock; waiting for it"
  flock 8
fi
RESULTS=$(mktemp -d "$BASE/results/run.XXXXXX")
chmod 755 "$RESULTS"
ln -sfn "$RESULTS" "$BASE/results/latest"
# keep the last five runs
ls -1dt "$BASE"/results/run.* 2>/dev/null | tail -n +6 | xargs -r rm -rf
# dom0 loads a private copy of the addon (lib/native.ts honours XENVIRT_NATIVE_PATH): a
# rebuild on the host during the run must not change code dom0 processes have mapped.
cp "$addon" "$RESULTS/xenvirt.node"
export XENVIRT_NATIVE_PATH=$RESULTS/xenvirt.node

# C reference for the benchmark, built on the host against libxenctrl.
if [ "${XENVIRT_XEN_BENCH:-1}" != 0 ]; then
  if [ -f /usr/include/xenctrl.h ]; then
    gcc -O2 -Wall -o "$RESULTS/xc-domaininfo" benchmarks/hypervisor/xc-domaininfo.c -lxenctrl ||
      { say "cannot build benchmarks/hypervisor/xc-domaininfo.c"; exit 1; }
  else
    say "benchmark C reference not built: libxenctrl headers missing (libxen-dev)"
  fi
fi

export XENVIRT_XEN_RESULTS=$RESULTS
export XQ_RW_DIR="$RESULTS $REPO/benchmarks/results"
export XQ_TIMEOUT=${XQ_TIMEOUT:-1200}
# stream dom0's output live, so a CI log shows progress (and where a hang sits)
export XQ_STREAM=${XQ_STREAM:-1}

attempt() {
  rm -f "$RESULTS"/status "$RESULTS"/infra
  bash test/xen/boot-dom0.sh bash test/xen/in-dom0.sh "$@" 2> >(tee "$RESULTS/boot.log" >&2)
  local rc=$?
  wait  # the tee
  BOOT_LINE=$(grep -m1 'ready (xenstored up) after' "$RESULTS/boot.log" || true)
  return $rc
}

rc=0
for try in 1 2; do
  attempt "$@"; rc=$?
  infra=
  case $rc in
    124) infra="timeout" ;;
    125) infra="dom0 never ran the suites (boot failure or crash)" ;;
  esac
  [ -f "$RESULTS/infra" ] && infra=$(cat "$RESULTS/infra")
  [ -z "$infra" ] && break
  if [ "$try" = 1 ]; then
    say "INFRASTRUCTURE: $infra; retrying once"
  else
    say "INFRASTRUCTURE: $infra again; giving up (not a test failure)"
  fi
done
[ -n "$BOOT_LINE" ] && say "boot: ${BOOT_LINE#run-in-dom0: }"
[ -f "$RESULTS/summary" ] && cat "$RESULTS/summary" >&2
exit "$rc"
