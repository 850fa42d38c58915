// Workload for memcheck-hypervisor.sh: every native hypervisor entry point, success and
// error paths, many times, plus repeated open/close — plain JS so valgrind has less to run.
// usage: node memcheck-hypervisor.mjs ADDON DOMID_OF_A_GUEST ROUNDS
import { createRequire } from 'node:module';
const [addonPath, guestArg, roundsArg] = process.argv.slice(2);
const a = createRequire(import.meta.url)(addonPath);
class VirError extends Error {
  constructor(m, o) {
    super(m);
    Object.assign(this, o);
  }
}
a.setErrorClass(VirError);
const guest = Number(guestArg);
const rounds = Number(roundsArg ?? 200);
const expectCode = (fn, code) => {
  try {
    fn();
  } catch (e) {
    if (e.code === code) return;
    throw e;
  }
  throw new Error(`expected ${code}`);
};

import { readdirSync, readFileSync } from 'node:fs';
const fds = () => readdirSync('/proc/self/fd').length;
const maps = () => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('/dev/xen')).length;
for (let i = 0; i < 20; i++) new a.Hypervisor().close();
const fd0 = fds(), map0 = maps();
for (let i = 0; i < 200; i++) {
  const h = new a.Hypervisor();
  h.domainInfoList(0, new Float64Array(16 * 4)); // allocates the list buffer too
  h.close();
}
if (fds() !== fd0 || maps() !== map0) throw new Error(`open/close leaked: fds ${fd0} -> ${fds()}, /dev/xen mappings ${map0} -> ${maps()}`);
console.log(`open/close x200: fds ${fd0} -> ${fds()}, /dev/xen mappings ${map0} -> ${maps()}`);
for (let i = 0; i < 10; i++) expectCode(() => new a.Hypervisor({ domctlVersions: [0x7e] }), 'VIR_ERR_XEN_CALL');

const hv = new a.Hypervisor();
const one = new Float64Array(16);
const many = new Float64Array(16 * 8);
const p = hv.physinfo();
const bits = (Math.floor(p.maxCpuId / 8) + 1) * 8;
const bound = new Float64Array(16);
hv.bindRecord(bound);
// the lean plain function; some made and dropped, so their finalizers run too
for (let i = 0; i < 50; i++) hv.domainInfoFn()(0);
const infoFn = hv.domainInfoFn();
for (let i = 0; i < rounds; i++) {
  hv.domainInfo(guest);
  if (bound[0] !== guest) throw new Error(`bound record holds domain ${bound[0]}, not ${guest}`);
  infoFn(0);
  if (bound[0] !== 0) throw new Error(`domainInfoFn left domain ${bound[0]} in the bound record, not 0`);
  expectCode(() => infoFn(0x7fef), 'VIR_ERR_NO_DOMAIN');
  const vs = await hv.vcpus(guest, 0, bits);
  if (vs.length !== 1 || !(vs[0].cpumap instanceof Uint8Array)) throw new Error('vcpus() answered wrongly');
  await hv.vcpus(0x7fef, 0, bits).then(
    () => {
      throw new Error('vcpus of a missing domain resolved');
    },
    (e) => {
      if (e.code !== 'VIR_ERR_NO_DOMAIN') throw e;
    },
  );
  hv.version();
  hv.physinfo();
  hv.schedId();
  hv.interfaceInfo();
  hv.domainInfoList(0, many);
  hv.domainInfo(0, one);
  hv.domainInfo(guest, one);
  hv.vcpuInfo(guest, 0);
  const m = hv.getVcpuAffinity(guest, 0, bits);
  hv.setVcpuAffinity(guest, 0, m);
  const c = hv.getCredit(guest, hv.schedId());
  hv.setCredit(guest, hv.schedId(), c.weight, c.cap);
  expectCode(() => hv.domainInfo(0x7fef, one), 'VIR_ERR_NO_DOMAIN');
  expectCode(() => hv.vcpuInfo(0x7fef, 0), 'VIR_ERR_NO_DOMAIN');
  if (i % 20 === 0) {
    hv.pause(guest);
    hv.unpause(guest);
    await hv.destroy(0x7fef).then(
      () => {
        throw new Error('destroy of a missing domain resolved');
      },
      (e) => {
        if (e.code !== 'VIR_ERR_NO_DOMAIN') throw e;
      },
    );
  }
}
try {
  hv.domainInfo(0, new Uint8Array(16));
  throw new Error('a Uint8Array record buffer was accepted');
} catch (e) {
  if (!(e instanceof TypeError)) throw e;
}
await hv.destroy(guest);
hv.close();
expectCode(() => hv.version(), 'VIR_ERR_INVALID_CONN');
expectCode(() => infoFn(0), 'VIR_ERR_INVALID_CONN');
console.log('memcheck workload done');
