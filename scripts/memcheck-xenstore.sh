#!/usr/bin/env bash
# Memory check of the XenStore addon code: the workload in memcheck-xenstore.mjs
# (100k operations, repeated open/close, failing peers) under valgrind, against the real
# C xenstored. Fails on any invalid access or any leak whose stack passes through
# xenvirt.node. Usage: scripts/memcheck-xenstore.sh [OPS] [CYCLES]
set -euo pipefail
cd "$(dirname "$0")/.."
OPS=${1:-100000}
CYCLES=${2:-200}
command -v valgrind >/dev/null || { echo "valgrind missing (see .ci/setup.d/20-xenstored.sh)" >&2; exit 1; }
[ -f build/Release/xenvirt.node ] || npx node-gyp rebuild
[ -f dist/index.js ] || npm run build:ts

RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/xenvirt-memcheck-XXXXXX")
cleanup() {
	[ -f "$RUNDIR/xsd/xenstored.pid" ] && kill "$(cat "$RUNDIR/xsd/xenstored.pid")" 2>/dev/null || true
	rm -rf "$RUNDIR"
}
trap cleanup EXIT
mkdir -p "$RUNDIR/xsd"
sh tools/xenstored/start-xenstored.sh c "$RUNDIR/xsd" >/dev/null

LOG="$RUNDIR/valgrind.log"
set +e
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect \
	--num-callers=30 --log-file="$LOG" \
	node scripts/memcheck-xenstore.mjs "$RUNDIR/xsd/socket" "$OPS" "$CYCLES"
rc=$?
set -e
grep -E "ERROR SUMMARY|definitely lost:|indirectly lost:" "$LOG" | sed 's/^==[0-9]*== //'
[ $rc -eq 0 ] || { echo "memcheck: workload failed (exit $rc)" >&2; tail -50 "$LOG" >&2; exit 1; }
# Split the log into records (blank-line separated) and keep those that involve the
# addon: invalid accesses and leaks anywhere in node are not ours to judge.
ours=$(sed 's/^==[0-9]*== \{0,1\}//' "$LOG" |
	awk -v RS= '/xenvirt\.node/ && (/Invalid|uninitialised|definitely lost|indirectly lost|Mismatched|free\(\)/)')
if [ -n "$ours" ]; then
	echo "memcheck: problems in the xenvirt addon:" >&2
	echo "$ours" >&2
	exit 1
fi
echo "memcheck: no invalid access and no leak in xenvirt.node"
