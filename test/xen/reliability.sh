#!/usr/bin/env bash
# `bash test/xen/reliability.sh [ROUNDS]`: per Xen release (XENVIRT_XEN_RELEASES, as
# run.sh), boot dom0 on the harness's CPU model (XQ_CPU, default Nehalem) and run
# node-during-guest-boot.sh ROUNDS (default 20) times. Not part of `npm run test:xen`
# (about 2 minutes per release); run it when the CPU model or QEMU changes.
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
. test/xen/releases.sh
RELEASES=$(xen_releases) || exit 1
ROUNDS=${1:-20}
addon=build/Release/xenvirt.node
if [ ! -f "$addon" ] || [ -n "$(find native -newer "$addon" -name '*.cc' -o -newer "$addon" -name '*.h' | head -n1)" ]; then
  npm run --silent build:native >/dev/null || exit 1
fi
BASE=$REPO/.cache/xen-qemu
mkdir -p "$BASE/results"
exec 8>"$BASE/run.lock"
flock -n 8 || { echo "reliability: waiting for another test:xen run" >&2; flock 8; }
OUT=$(realpath "$(mktemp -d "$BASE/results/reliability.XXXXXX")")
chmod 755 "$OUT"
rc=0
for rel in $RELEASES; do
  xen_release_prepare "$rel" "$REPO" && xen_release_sync_tree "$REPO" || { rc=1; continue; }
  cp "$addon" "$OUT/xenvirt-$rel.node"
  XENVIRT_NATIVE_PATH=$OUT/xenvirt-$rel.node XQ_RW_DIR=$OUT XQ_TIMEOUT=${XQ_TIMEOUT:-1500} \
    bash test/xen/boot-dom0.sh bash test/xen/node-during-guest-boot.sh "$ROUNDS" 2>&1 | tee "$OUT/xen-$rel.log"
  r=${PIPESTATUS[0]}
  echo "Xen $rel (cpu ${XQ_CPU:-Nehalem}): $(grep '^reliability:' "$OUT/xen-$rel.log" || echo "no result (exit $r)")" | tee -a "$OUT/summary"
  [ "$r" = 0 ] || rc=1
done
cat "$OUT/summary"
exit $rc
