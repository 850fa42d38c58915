#!/usr/bin/env bash
# `npm run test:xen [-- FILTER…]`: for each Xen release (test/xen/releases.sh: 4.17 from
# this host's packages, 4.20 from a trixie root filesystem), boot Xen + a Linux dom0 under
# QEMU (boot-dom0.sh) and run there, against this tree's one build of the addon, the
# hypervisor benchmark and the integration suites in test/xen/suites/ (all, or those
# whose file names match FILTER). Exits non-zero if anything failed on any release.
#
# What counts as what:
#  - retried (once, printed in the summary): dom0 never started anything of ours — a
#    boot failure, or QEMU timing out before the suites ran ($R/started absent);
#  - FAILURE, never retried: a test failing; a crash (signal, V8 fatal error, dead worker,
#    kernel-reported fault) of any process in dom0 after the suites started, since they
#    all load the addon; a timeout once the suites started; and under CI=true, any
#    declared test that did not run and pass in dom0 (counted per suite file from
#    `vitest list` on the host, so a skipIf cannot turn a run green).
# Env: XENVIRT_XEN_RELEASES=4.20 (or "4.17,4.20"; default all), XENVIRT_XEN_BENCH=0 skips
# the benchmark; XQ_* knobs go to boot-dom0.sh (XQ_CPU, XQ_VERBOSE, XQ_TIMEOUT, …).
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
T_START=$SECONDS
say() { echo "test:xen: $*" >&2; }
. test/xen/releases.sh
. test/xen/suite-releases.sh
RELEASES=$(xen_releases) || exit 1

# Missing host pieces: a one-line reason; fatal in CI (.ci/setup.d/30-xen-qemu.sh and
# 35-xen-trixie.sh install them), a skip elsewhere.
missing=
for t in qemu-system-x86_64 busybox cpio xl xenstore-read node gcc rsync; do
  command -v "$t" >/dev/null || missing+=" $t"
done
case " $RELEASES " in *" 4.20 "*) command -v debootstrap >/dev/null || [ -x .cache/xen-qemu/rootfs-trixie/usr/sbin/xl ] || missing+=" debootstrap" ;; esac
if [ -n "$missing" ]; then
  say "cannot run: missing host tools:$missing (install with .ci/setup.d/30-xen-qemu.sh and 35-xen-trixie.sh)"
  [ "${CI:-}" = true ] && exit 1
  exit 0
fi

# The addon every dom0 loads is the host's build (one build for every release).
addon=build/Release/xenvirt.node
if [ ! -f "$addon" ] || [ -n "$(find native -newer "$addon" -name '*.cc' -o -newer "$addon" -name '*.h' | head -n1)" ]; then
  say "building the native addon"
  npm run --silent build:native >/dev/null || { say "native build failed"; exit 1; }
fi
# the peers benchmark runs the CLI as a user would (bin/xenvirt.js loads dist/)
if [ ! -f dist/cli.cjs ] || [ -n "$(find lib -newer dist/cli.cjs -name '*.ts' | head -n1)" ]; then
  say "building dist/"
  npm run --silent build:ts >/dev/null || { say "dist build failed"; exit 1; }
fi

# The suite files this run covers (same selection as in-dom0.sh) and the tests they
# declare, listed on the host with every dom0 guard open (helpers.ts inDom0()).
suites=()
for f in test/xen/suites/*.xen.ts; do
  if [ $# -eq 0 ]; then suites+=("$(basename "$f" .xen.ts)"); continue; fi
  for pat in "$@"; do
    case $f in *"$pat"*) suites+=("$(basename "$f" .xen.ts)"); break ;; esac
  done
done
[ ${#suites[@]} -gt 0 ] || { say "no suite matches: $*"; exit 1; }

# One run at a time on this machine (QEMU takes both cores), and a results directory of
# its own: a second run must never delete or overwrite files the first one's dom0 uses.
BASE=$REPO/.cache/xen-qemu
mkdir -p "$BASE/results" benchmarks/results
exec 8>"$BASE/run.lock"
if ! flock -n 8; then
  say "another test:xen run holds $BASE/run.lock; waiting for it"
  flock 8
fi
# realpath: dom0 of a root filesystem has no .cache symlink, only the 9p mounts
RESULTS=$(realpath "$(mktemp -d "$BASE/results/run.XXXXXX")")
chmod 755 "$RESULTS"
ln -sfn "$RESULTS" "$BASE/results/latest"
ls -1dt "$BASE"/results/run.* 2>/dev/null | tail -n +6 | xargs -r rm -rf   # keep five
# One copy of the addon for every release, taken now: a host rebuild during the run
# must change neither what one dom0 has mapped nor which build the next release gets.
cp "$addon" "$RESULTS/xenvirt.node"
XENVIRT_XEN_COLLECT=1 node node_modules/vitest/vitest.mjs list --config test/xen/vitest.xen.config.ts \
  --json="$RESULTS/declared.json" >/dev/null 2>"$RESULTS/declared.err" ||
  { say "cannot list the suites' tests:"; cat "$RESULTS/declared.err" >&2; exit 1; }

# Time per release: boot and benchmark, then what each suite file does (files create
# guests and start daemons under emulation), generously for a loaded 2-core machine.
export XQ_TIMEOUT=${XQ_TIMEOUT:-$((420 + 480 * ${#suites[@]}))}
export XQ_STREAM=${XQ_STREAM:-1}   # dom0's output live, so a CI log shows where a hang sits
bench=${XENVIRT_XEN_BENCH:-}
[ -z "$bench" ] && { [ $# -eq 0 ] && bench=1 || bench=0; }

: > "$RESULTS/summary"
note() { echo "$*" >> "$RESULTS/summary"; }
failed=0
for rel in $RELEASES; do
  R=$RESULTS/xen-$rel
  mkdir -p "$R"; chmod 755 "$R"
  t_rel=$SECONDS
  if ! xen_release_prepare "$rel" "$REPO"; then
    note "Xen $rel: FAILURE: cannot prepare the release (see above)"; failed=1; continue
  fi
  if ! xen_release_sync_tree "$REPO"; then
    note "Xen $rel: FAILURE: cannot copy the tree into $XQ_ROOTFS"; failed=1; continue
  fi
  if [ "$bench" = 1 ] && ! xen_release_build_reference "$R/xc-domaininfo"; then
    note "Xen $rel: FAILURE: cannot build benchmarks/hypervisor/xc-domaininfo.c"; failed=1; continue
  fi
  # dom0 loads that copy (lib/native.ts honours XENVIRT_NATIVE_PATH), placed where this
  # release's dom0 can see it.
  cp "$RESULTS/xenvirt.node" "$R/xenvirt.node"
  export XENVIRT_NATIVE_PATH=$R/xenvirt.node
  export XENVIRT_XEN_RESULTS=$R XENVIRT_XEN_BENCH=$bench
  export XQ_RW_DIR="$R $REPO/benchmarks/results"
  rc=0
  for try in 1 2; do
    rm -f "$R"/{started,crash,summary,dmesg-faults} "$R"/vitest-*
    say "Xen $rel: attempt $try"
    bash test/xen/boot-dom0.sh bash test/xen/in-dom0.sh "$@" 2> >(tee "$R/boot.log" >&2)
    rc=$?
    wait  # the tee
    # only what never started anything of ours is retried
    [ -f "$R/started" ] && break
    [ "$rc" = 0 ] && break
    why="dom0 never started the suites (exit $rc: $([ "$rc" = 124 ] && echo 'QEMU timed out' || echo 'boot failure'))"
    if [ "$try" = 1 ]; then
      note "Xen $rel: RETRY: $why"; say "Xen $rel: RETRY: $why"
    else
      note "Xen $rel: INFRASTRUCTURE FAILURE: $why, twice"
    fi
  done
  boot=$(grep -m1 'ready (xenstored up) after' "$R/boot.log" | sed 's/^run-in-dom0: //')
  note "Xen $rel: ${boot:-no boot time (dom0 never became ready)}; $(cat "$R/started" 2>/dev/null || echo 'suites never started')"
  [ -f "$R/summary" ] && sed "s/^/Xen $rel:   /" "$R/summary" >> "$RESULTS/summary"
  [ -s "$R/crash" ] && sed "s/^/Xen $rel: FAILURE: crash: /" "$R/crash" >> "$RESULTS/summary"
  [ -f "$R/started" ] && [ "$rc" = 124 ] && note "Xen $rel: FAILURE: timed out after the suites started (XQ_TIMEOUT=$XQ_TIMEOUT s)"
  if [ -f "$R/started" ]; then
    # only the suites this release runs count (suite-releases.sh)
    rel_suites=()
    for s in "${suites[@]}"; do suite_runs_on "test/xen/suites/$s.xen.ts" "$rel" && rel_suites+=("$s"); done
    counts=$(node test/xen/expect-tests.mjs "$RESULTS/declared.json" "$R" "${rel_suites[@]}")
    crc=$?
    echo "$counts" | sed "s/^/Xen $rel:   /" >> "$RESULTS/summary"
    if [ $crc != 0 ]; then
      if [ "${CI:-}" = true ]; then
        note "Xen $rel: FAILURE: not every declared test ran and passed in dom0"; [ "$rc" = 0 ] && rc=1
      else
        note "Xen $rel: WARNING: not every declared test ran and passed in dom0 (a failure under CI=true)"
      fi
    fi
  fi
  note "Xen $rel: exit $rc after $((SECONDS - t_rel)) s"
  [ "$rc" != 0 ] && failed=1
done

# One benchmark file for every release that ran it (each dom0 wrote its own copy).
if [ "$bench" = 1 ]; then
  node -e '
    const fs = require("fs"); const out = { date: new Date().toISOString(), releases: {}, rows: [] };
    for (const f of process.argv.slice(2)) {
      if (!fs.existsSync(f)) continue;
      const r = JSON.parse(fs.readFileSync(f, "utf8")); const rel = f.split("/").slice(-2)[0].replace(/^xen-/, "");
      out.releases[rel] = { date: r.date, node: r.node }; out.rows.push(...r.rows);
    }
    if (out.rows.length) fs.writeFileSync("benchmarks/results/hypervisor.json", JSON.stringify(out, null, 2) + "\n");
  ' $(for rel in $RELEASES; do echo "$RESULTS/xen-$rel/hypervisor.json"; done)
fi

note "test:xen: releases $RELEASES, $((SECONDS - T_START)) s in all; results in $RESULTS"
echo "==== test:xen summary ====" >&2
cat "$RESULTS/summary" >&2
exit $failed
