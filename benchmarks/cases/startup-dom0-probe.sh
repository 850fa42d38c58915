#!/bin/bash
# Inside an emulated dom0 (bash test/xen/boot-dom0.sh bash benchmarks/cases/startup-dom0-probe.sh):
# where does node's own start-up go, and what does each part of a xenvirt process add?
# Interleaved rounds of every variant; the first round (cold page cache over 9p) is
# reported apart. XV_PROBE_OUT: a writable directory (XQ_RW_DIR) for profiles and strace.
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-8}
CC=/tmp/xv-cc; CCJ=/tmp/xv-cc-jitless; mkdir -p $CC $CCJ  # V8 flags differ: a cache each
export XENVIRT_DEFAULT_URI=
declare -A T
NOCA="env -u NODE_EXTRA_CA_CERTS"
variants=(
  "true|/bin/true"
  "node-version|node --version"
  "node-e0-ca|node -e 0"
  "node-e0|$NOCA node -e 0"
  "node-e0-jitless|$NOCA node --jitless -e 0"
  "node-e0-maxlazy|$NOCA node --max-lazy -e 0"
  "help|$NOCA XENVIRT_CODE_CACHE_DIR=$CC node bin/xenvirt.js help"
  "testlist|$NOCA XENVIRT_CODE_CACHE_DIR=$CC node bin/xenvirt.js -c test:///default list --all"
  "xenlist|$NOCA XENVIRT_CODE_CACHE_DIR=$CC node bin/xenvirt.js -c xen:/// list --all"
  "xenlist-ca|XENVIRT_CODE_CACHE_DIR=$CC node bin/xenvirt.js -c xen:/// list --all"
  "xenlist-nocache|$NOCA XENVIRT_CODE_CACHE=0 node bin/xenvirt.js -c xen:/// list --all"
  "xenlist-jitless|$NOCA XENVIRT_CODE_CACHE_DIR=$CCJ node --jitless bin/xenvirt.js -c xen:/// list --all"
  "xl-list|xl list"
)
echo "NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS:-unset} node=$(node --version) nproc=$(nproc)"
grep -m1 'model name' /proc/cpuinfo
# first-ever runs (cold page cache over 9p) reported separately
for r in $(seq 0 $ROUNDS); do
  for v in "${variants[@]}"; do
    name=${v%%|*}; cmd=${v#*|}
    # bash's own clock: a `date` process would add a process start (~0.3 s here) to every run
    t0=$EPOCHREALTIME; eval "$cmd" >/dev/null 2>/tmp/xv-err; st=$?; t1=$EPOCHREALTIME
    ms=$(( (${t1/./} - ${t0/./}) / 1000 ))
    [ $st -ne 0 ] && echo "FAIL $name status $st: $(head -c 300 /tmp/xv-err)"
    if [ $r -eq 0 ]; then echo "cold $name $ms"; else T[$name]="${T[$name]} $ms"; fi
  done
done
for v in "${variants[@]}"; do name=${v%%|*}; echo "warm $name:${T[$name]}"; done
[ -n "${XV_PROBE_OUT:-}" ] || { echo done; exit 0; }
# a CPU profile of node -e 0 itself, and strace counts, when available
OUT=${XV_PROBE_OUT:-/tmp}; env -u NODE_EXTRA_CA_CERTS node --cpu-prof --cpu-prof-dir=$OUT/prof-node -e 0; env -u NODE_EXTRA_CA_CERTS XENVIRT_CODE_CACHE_DIR=$CC node --cpu-prof --cpu-prof-dir=$OUT/prof-xenlist bin/xenvirt.js -c xen:/// list --all >/dev/null
which strace >/dev/null && env -u NODE_EXTRA_CA_CERTS strace -f -c -o $OUT/strace-node node -e 0; head -25 $OUT/strace-node
echo done
