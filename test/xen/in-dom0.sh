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

# One vitest process per suite file: a crash of dom0 userland then costs one file, not
# the run, and each file's report is its own. Arguments select files by substring.
files=()
for f in test/xen/suites/*.xen.ts; do
  if [ $# -eq 0 ]; then files+=("$f"); continue; fi
  for pat in "$@"; do
    case $f in *"$pat"*) files+=("$f"); break ;; esac
  done
done
[ ${#files[@]} -gt 0 ] || { echo "no suite matches: $*" >&2; exit 1; }
rc=0
for f in "${files[@]}"; do
  name=$(basename "$f" .xen.ts)
  node node_modules/vitest/vitest.mjs run --config test/xen/vitest.xen.config.ts \
    --reporter=default --reporter=json --outputFile.json="$R/vitest-$name.json" "$f" 2>&1 | tee "$R/vitest-$name.out"
  frc=${PIPESTATUS[0]}
  note_signal "vitest ($name)" $frc
  # a test worker that died (V8 fatal error, signal) is dom0 userland crashing, which
  # happens now and then under emulation: infrastructure, retried by run.sh
  if grep -q -e 'Worker exited unexpectedly' -e '^# Fatal error in' "$R/vitest-$name.out"; then
    echo "a vitest worker crashed in dom0 running $name" >> "$R/infra"
  fi
  echo "suite $name: exit $frc" >> "$R/summary"
  [ $rc = 0 ] && rc=$frc
done
[ $rc = 0 ] && rc=$brc
exit $rc
