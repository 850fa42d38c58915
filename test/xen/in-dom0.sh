#!/usr/bin/env bash
# Runs inside dom0 (started by run.sh through boot-dom0.sh): the hypervisor benchmark
# first, on a freshly booted dom0 with no other guests or daemons around, then the
# suites. Exit status: the suites' (or the benchmark's if they passed).
# A process killed by a signal means dom0 userland crashed: recorded as infrastructure.
set -uo pipefail
R=${XENVIRT_XEN_RESULTS:?}
export XENVIRT_XC_BENCH=$R/xc-domaininfo

note_signal() {  # $1 = what, $2 = status
  if [ "$2" -gt 128 ] && [ "$2" -lt 160 ]; then
    echo "$1 killed by signal $(( $2 - 128 )) in dom0" >> "$R/infra"
  fi
}

: > "$R/summary"
brc=0
if { [ "${XENVIRT_XEN_BENCH:-1}" != 0 ] && [ $# -eq 0 ]; } || [ "${XENVIRT_XEN_BENCH:-}" = 1 ]; then
  node --import tsx benchmarks/run.ts hypervisor
  brc=$?
  note_signal benchmark $brc
  echo "benchmark: exit $brc" >> "$R/summary"
fi

node node_modules/vitest/vitest.mjs run --config test/xen/vitest.xen.config.ts \
  --reporter=default --reporter=json --outputFile.json="$R/vitest.json" "$@" 2>&1 | tee "$R/vitest.out"
rc=${PIPESTATUS[0]}
note_signal vitest $rc
# a test worker that died (V8 fatal error, signal) is dom0 userland crashing, which
# happens now and then under emulation: infrastructure, retried by run.sh
if grep -q -e 'Worker exited unexpectedly' -e '^# Fatal error in' "$R/vitest.out"; then
  echo "a vitest worker process crashed in dom0 ($(grep -m1 -e '^# Check failed' -e 'Fatal error' "$R/vitest.out"))" >> "$R/infra"
fi
echo "suites: exit $rc" >> "$R/summary"
[ $rc = 0 ] && rc=$brc
exit $rc
