#!/usr/bin/env bash
# Runs inside dom0 (started by run.sh through boot-dom0.sh), once per Xen release: the
# hypervisor benchmark first, on a freshly booted dom0 with no other guests or daemons
# around, then the suites. Exit status: the suites' (or the benchmark's if they passed).
#
# Crashes are failures, not infrastructure: every process started here loads the addon
# (or runs code that does), so a signal, a V8 fatal error or a dead vitest worker is
# written to $R/crash and fails the run even if a retry would pass. $R/started marks
# that dom0 got this far, so run.sh never retries a run that loaded the addon.
set -uo pipefail
R=${XENVIRT_XEN_RESULTS:?}
export XENVIRT_XC_BENCH=$R/xc-domaininfo

crashed() {  # $1 = what, $2 = exit status, $3 = output file (optional)
  if [ "$2" -gt 128 ] && [ "$2" -lt 160 ]; then
    echo "$1 killed by signal $(( $2 - 128 )) in dom0" >> "$R/crash"
  elif [ -n "${3:-}" ] && grep -q -e 'Worker exited unexpectedly' -e '^# Fatal error in' -e 'Segmentation fault' "$3"; then
    echo "$1: a worker process crashed in dom0 ($(grep -m1 -e 'Worker exited unexpectedly' -e '^# Fatal error in' -e 'Segmentation fault' "$3"))" >> "$R/crash"
  fi
}

echo "$(date -u +%T) xen $(cat /sys/hypervisor/version/major).$(cat /sys/hypervisor/version/minor)$(cat /sys/hypervisor/version/extra) node $(node --version)" > "$R/started"
: > "$R/summary"
brc=0
if { [ "${XENVIRT_XEN_BENCH:-1}" != 0 ] && [ $# -eq 0 ]; } || [ "${XENVIRT_XEN_BENCH:-}" = 1 ]; then
  # peers (xenvirt vs libvirt's libxl driver vs xl) where the host's libvirt is visible: the 4.17 dom0
  peers=
  [ "$(cat /sys/hypervisor/version/minor)" = 17 ] && [ -x /usr/sbin/libvirtd ] && peers=peers
  node --import tsx benchmarks/run.ts hypervisor $peers 2>&1 | tee "$R/benchmark.out"
  brc=${PIPESTATUS[0]}
  crashed benchmark $brc "$R/benchmark.out"
  echo "benchmark: exit $brc" >> "$R/summary"
  # every release writes benchmarks/results/hypervisor.json; run.sh merges these copies
  [ $brc = 0 ] && cp benchmarks/results/hypervisor.json "$R/hypervisor.json"
  [ $brc = 0 ] && [ -n "$peers" ] && cp benchmarks/results/peers.json benchmarks/results/peers-profile.txt "$R/" 2>/dev/null
fi

# One vitest process per suite file: each file's report is its own, and a crash names
# its file. Arguments select files by substring.
# Suites that name other releases (suite-releases.sh) are left out here.
. test/xen/suite-releases.sh
rel="$(cat /sys/hypervisor/version/major).$(cat /sys/hypervisor/version/minor)"
files=()
matched=0
for f in test/xen/suites/*.xen.ts; do
  want=0
  if [ $# -eq 0 ]; then want=1; else
    for pat in "$@"; do
      case $f in *"$pat"*) want=1; break ;; esac
    done
  fi
  [ $want = 1 ] || continue
  matched=1
  if suite_runs_on "$f" "$rel"; then files+=("$f")
  else echo "suite $(basename "$f" .xen.ts): not on Xen $rel (xen-releases: $(suite_releases "$f"))" >> "$R/summary"; fi
done
[ $matched = 1 ] || { echo "no suite matches: $*" >&2; exit 1; }
rc=0
for f in "${files[@]}"; do
  name=$(basename "$f" .xen.ts)
  t0=$SECONDS
  node node_modules/vitest/vitest.mjs run --config test/xen/vitest.xen.config.ts \
    --reporter=default --reporter=json --outputFile.json="$R/vitest-$name.json" "$f" 2>&1 | tee "$R/vitest-$name.out"
  frc=${PIPESTATUS[0]}
  crashed "vitest ($name)" $frc "$R/vitest-$name.out"
  echo "suite $name: exit $frc ($((SECONDS - t0)) s)" >> "$R/summary"
  [ $rc = 0 ] && rc=$frc
done

# Processes the kernel saw die of a fault (suites' children too, e.g. a daemon they
# started): node and anything else but Xen's own tools count as crashes of ours.
busybox dmesg 2>/dev/null | grep -E 'segfault at|general protection|trap invalid opcode|traps: ' > "$R/dmesg-faults" || true
while read -r line; do
  comm=$(sed -nE 's/^(\[[^]]*\] *)?(traps: *)?([^[ ]+)\[[0-9]+\].*/\3/p' <<< "$line")
  case $comm in
    xl|oxenstored|xenstored|xenconsoled|xen-init-dom0) echo "xen tool fault (not ours): $line" >> "$R/summary" ;;
    *) echo "process fault in dom0: $line" >> "$R/crash" ;;
  esac
done < "$R/dmesg-faults"

[ $rc = 0 ] && rc=$brc
[ -s "$R/crash" ] && [ $rc = 0 ] && rc=1
exit $rc
