#!/usr/bin/env bash
# Runs inside dom0 (reliability.sh): ROUNDS times, start a tiny PV guest with `xl create`
# and, while it boots, a node process that loads the addon, lists domains through
# privcmd and does some CPU-heavy JS (JSON, crypto, regex). Under QEMU's -cpu max such
# node processes crashed in 9 of 10 tries; this counts what happens on the CPU model
# boot-dom0.sh uses now. Prints one line per round and a closing
# "reliability: N rounds, C crashes, F other failures"; exits 1 unless C = F = 0.
set -uo pipefail
ROUNDS=${1:-20}
addon=${XENVIRT_NATIVE_PATH:?}
cfg=/tmp/xq-rel.cfg
cat > "$cfg" <<CFG
name = "xq-rel"
type = "pv"
kernel = "$XQ_GUEST_KERNEL"
ramdisk = "$XQ_GUEST_INITRD"
extra = "console=hvc0 xq.role=domu quiet"
memory = 128
vcpus = 1
on_poweroff = "destroy"
CFG
script='
const a = require(process.argv[1]);
a.setErrorClass(class VirError extends Error {});
const hv = new a.Hypervisor();
const buf = new Float64Array(64 * 16);
let n = 0;
for (let i = 0; i < 200; i++) n = hv.domainInfoList(0, buf);
const crypto = require("crypto");
let h = "";
for (let i = 0; i < 2000; i++) h = crypto.createHash("sha256").update(JSON.stringify({ i, h, s: "x".repeat(i % 97) })).digest("hex");
if (!/^[0-9a-f]{64}$/.test(h)) throw new Error("bad digest");
hv.close();
console.log(`ok ${n} domains`);
'
crashes=0 other=0
for r in $(seq 1 "$ROUNDS"); do
  xl create "$cfg" >/tmp/xq-rel-create.log 2>&1 &
  xpid=$!
  sleep 0.5   # xl is building the domain; the guest kernel boots right after
  t0=$SECONDS
  out=$(node -e "$script" "$addon" 2>&1); nrc=$?
  wait $xpid; xrc=$?
  if [ $nrc -gt 128 ]; then crashes=$((crashes + 1)); what="node CRASHED (signal $((nrc - 128)))"
  elif [ $nrc != 0 ]; then other=$((other + 1)); what="node failed ($nrc): $(tail -n1 <<< "$out")"
  else what="node $(tail -n1 <<< "$out") in $((SECONDS - t0)) s"; fi
  if [ $xrc -gt 128 ]; then crashes=$((crashes + 1)); what+="; xl create CRASHED (signal $((xrc - 128)))"
  elif [ $xrc != 0 ]; then other=$((other + 1)); what+="; xl create failed ($xrc): $(tail -n1 /tmp/xq-rel-create.log)"; fi
  echo "round $r: $what"
  xl destroy xq-rel >/dev/null 2>&1
  for i in $(seq 1 100); do xl domid xq-rel >/dev/null 2>&1 || break; sleep 0.2; done
done
echo "reliability: $ROUNDS rounds, $crashes crashes, $other other failures"
[ $crashes = 0 ] && [ $other = 0 ]
