/**
 * listAllDomains({ withInfo: true }) in the Xen driver: running domains get their info
 * from ONE getdomaininfolist batch (the hypervisor sub-driver's list), names from
 * XenStore (Debian's C xenstored), inactive ones from the cached config files. The
 * hypervisor sub-driver is the real class over a simulated privcmd layer (Xen cannot run
 * here), which counts the calls it gets; the real one runs in dom0 (unified-lifecycle).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XenStore } from '../../lib/index.js';
import { HypervisorSubDriver } from '../../lib/drivers/xen/hypervisor-subdriver.js';
import { xenstoreSubDriverFactory } from '../../lib/drivers/xen/xenstore-subdriver.js';
import { configFilesSubDriverFactory, type ConfigFilesSubDriver } from '../../lib/drivers/xen/configfiles-subdriver.js';
import { UnifiedXenDriver } from '../../lib/drivers/xen/unified.js';
import type { SubDriver, SubDriverContext, SubDriverName } from '../../lib/drivers/xen/subdriver.js';
import type { DomainRef, HypervisorDriver } from '../../lib/driver.js';
import type { HvDomainInfo, HypervisorDriver as Hypervisor } from '../../lib/hypervisor/index.js';
import { skipReason, startXenstored, type RunningXenstored } from '../helpers/xenstored.js';

const WEB = { name: 'web', uuid: '4d3b6f38-3c1e-4b0c-9f0e-1f2a3b4c5d6e', id: 3 };
const DB_UUID = '7a7a7a7a-0000-4000-8000-00000000000d';
const DOM0_UUID = '00000000-0000-0000-0000-000000000000';

/** Stands in for lib/hypervisor (privcmd needs Xen): two domains, and a count of each call. */
function simulatedHypervisor() {
  const calls: string[] = [];
  const row = (domid: number, uuid: string, memory: number, cpuTime: number, state: HvDomainInfo['state']): HvDomainInfo =>
    ({ domid, uuid, state, maxMem: memory * 2, memory, nrVirtCpu: domid + 1, cpuTime, flags: 0, dying: false }) as HvDomainInfo;
  const hv = {
    listDomains() {
      calls.push('listDomains');
      return [row(0, DOM0_UUID, 1_048_576, 9_000_000_000, 'running'), row(3, WEB.uuid, 131_072, 42_000_000, 'paused')];
    },
    domainInfo() {
      calls.push('domainInfo');
      throw new Error('list-with-info must not ask per domain');
    },
    close() {},
  };
  return { hv: hv as unknown as Hypervisor, calls };
}

describe.skipIf(skipReason('c'))('listAllDomains withInfo (real sub-drivers, simulated privcmd)', () => {
  let daemon: RunningXenstored;
  let xs: XenStore;
  let work: string;
  let subs: Map<SubDriverName, SubDriver>;
  let sim: ReturnType<typeof simulatedHypervisor>;
  let drv: HypervisorDriver;

  const ctx = (options: SubDriverContext['options']): SubDriverContext => ({ uri: new URL('xen:///'), options, privileged: true, readOnly: false, events: new EventEmitter(), log: () => {} });

  beforeAll(async () => {
    daemon = await startXenstored('c');
    xs = await XenStore.open({ path: daemon.socket });
    await xs.write('/local/domain/0/name', 'Domain-0');
    await xs.write('/local/domain/3/name', WEB.name);
    await xs.write('/local/domain/3/vm', `/vm/${WEB.uuid}`);
    await xs.introduceDomain(WEB.id, 0x1000, 7);
    work = mkdtempSync(join(tmpdir(), 'xenvirt-withinfo-'));
    mkdirSync(join(work, 'xen'));
    writeFileSync(join(work, 'xen', 'web.cfg'), 'name = "web"\nmemory = 128\nkernel = "/boot/vmlinuz"\n');
    writeFileSync(join(work, 'xen', 'db'), `name = "db"\nuuid = "${DB_UUID}"\nmemory = 256\nvcpus = 2\nkernel = "/boot/vmlinuz"\n`);
    sim = simulatedHypervisor();
    subs = new Map<SubDriverName, SubDriver>([
      ['hypervisor', new HypervisorSubDriver(sim.hv)],
      ['xenstore', await xenstoreSubDriverFactory.open(ctx({ xenstorePath: daemon.socket }))],
      ['configfiles', await configFilesSubDriverFactory.open(ctx({ configDir: join(work, 'xen') }))],
    ]);
    drv = new UnifiedXenDriver(subs).driver();
  }, 60_000);
  afterAll(async () => {
    for (const s of subs?.values() ?? []) await s.close();
    await xs?.close();
    await daemon?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('running domains carry the batch\'s info, inactive ones their definition\'s; one list call, no per-domain call', async () => {
    sim.calls.length = 0;
    const list = (await drv.listAllDomains!({ withInfo: true })) as DomainRef[];
    expect(list).toEqual([
      { name: 'Domain-0', uuid: DOM0_UUID, id: 0, info: { state: 'running', maxMem: 2_097_152, memory: 1_048_576, nrVirtCpu: 1, cpuTime: 9_000_000_000 } },
      { name: 'web', uuid: WEB.uuid, id: 3, info: { state: 'paused', maxMem: 262_144, memory: 131_072, nrVirtCpu: 4, cpuTime: 42_000_000 } },
      { name: 'db', uuid: DB_UUID, id: -1, info: { state: 'shutoff', maxMem: 262_144, memory: 262_144, nrVirtCpu: 2, cpuTime: 0 } },
    ]);
    expect(sim.calls).toEqual(['listDomains']);
  });

  it('the info is what getInfo says (inactive: same definition, no new file read)', async () => {
    const cf = subs.get('configfiles') as ConfigFilesSubDriver;
    const reads = cf.reads;
    const list = (await drv.listAllDomains!({ withInfo: true, inactive: true })) as DomainRef[];
    expect(list.map((d) => d.name)).toEqual(['db']);
    expect(await drv.domainGetInfo!(list[0]!)).toEqual(list[0]!.info);
    expect(cf.reads).toBe(reads);
  });

  it('without withInfo: plain refs, no info field', async () => {
    const list = (await drv.listAllDomains!({})) as DomainRef[];
    expect(list.every((d) => !('info' in d))).toBe(true);
    expect(list).toHaveLength(3);
  });
});
