/**
 * The xend sub-driver against a SIMULATED xend (xend cannot run on Xen >= 4.5): every
 * route, for config versions 1 to 4, and every way xend can fail.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openXend, XendSubDriver } from '../../lib/drivers/xen/xend/index.js';
import { isVirError } from '../../lib/errors.js';
import { startSimulatedXend, type SimulatedXend } from '../helpers/simulated-xend.js';

async function rejects(p: Promise<unknown>, code: string, text?: RegExp) {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isVirError(e), `expected a VirError ${code}, got ${String(e)}`).toBe(true);
  expect((e as { code: string }).code).toBe(code);
  if (text) expect((e as Error).message).toMatch(text);
  return e as Error & { code: string; domain: string };
}

const PV_XML = (name: string) => `<domain type='xen'>
  <name>${name}</name>
  <uuid>8f07fe28-753f-2729-d76d-bdbd892f949a</uuid>
  <memory unit='KiB'>262144</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type>linux</type>
    <kernel>/boot/vmlinuz-xen</kernel>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>restart</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='file'/>
      <source file='/var/lib/xen/images/${name}.img'/>
      <target dev='xvda' bus='xen'/>
    </disk>
  </devices>
</domain>
`;

for (const version of [1, 2, 3, 4] as const) {
  describe(`xend sub-driver, config version ${version}`, () => {
    let xend: SimulatedXend;
    let drv: XendSubDriver;
    beforeEach(async () => {
      xend = await startSimulatedXend({ configVersion: version });
      xend.addDomain({ name: 'guest1', memory: 128, maxmem: 256, vcpus: 2 });
      drv = await openXend({ options: { xendAddress: xend.socketPath } }, { timeoutMs: 2000 });
    });
    afterEach(async () => {
      await drv.close();
      await xend.close();
    });

    it('reads the config version from GET /xend/node/ (absent = 1)', () => {
      expect(drv.configVersion).toBe(version);
      expect(xend.requests[0]).toMatchObject({ method: 'GET', path: '/xend/node/' });
    });

    it('answers node info, version and host name from the node record', async () => {
      const info = await drv.nodeGetInfo();
      expect(info).toEqual({ model: 'x86_64', memory: 4096 * 1024, cpus: 4, mhz: 2400, nodes: 1, sockets: 2, cores: 2, threads: 1 });
      expect(await drv.getVersion()).toBe(3_001_004);
      expect(await drv.getHostname()).toBe('simhost');
    });

    it('builds capabilities from xend\'s xen_caps', async () => {
      const caps = await drv.getCapabilities();
      expect(caps).toContain('<arch>x86_64</arch>');
      expect(caps).toContain('<os_type>hvm</os_type>');
      expect(caps).toContain('<os_type>xen</os_type>');
    });

    it('lists and looks up running domains by name, id and uuid', async () => {
      const g = xend.domains.get('guest1')!;
      const refs = await drv.listAllDomains({ active: true });
      expect(refs).toEqual([{ name: 'guest1', uuid: g.uuid, id: g.domid }]);
      expect(xend.requests.at(-1)!.path).toBe('/xend/domain?detail=1');
      expect(await drv.lookupDomainByName('guest1')).toEqual(refs[0]);
      expect(xend.requests.at(-1)!.path).toBe('/xend/domain/guest1?detail=1');
      expect(await drv.lookupDomainById(g.domid)).toEqual(refs[0]);
      expect(await drv.lookupDomainByUUID(g.uuid.toUpperCase())).toEqual(refs[0]);
      await rejects(drv.lookupDomainByName('nosuch'), 'VIR_ERR_NO_DOMAIN', /nosuch/);
      await rejects(drv.lookupDomainById(999), 'VIR_ERR_NO_DOMAIN');
      await rejects(drv.lookupDomainByUUID('00000000-0000-0000-0000-000000000000'), 'VIR_ERR_NO_DOMAIN');
    });

    it('reports domain info and XML through the converters with this config version', async () => {
      const ref = await drv.lookupDomainByName('guest1');
      expect(await drv.domainGetInfo(ref)).toEqual({ state: 'blocked', maxMem: 256 * 1024, memory: 128 * 1024, nrVirtCpu: 2, cpuTime: 1_250_000_000 });
      const xml = await drv.domainGetXMLDesc(ref, {});
      expect(xml).toContain('<name>guest1</name>');
      expect(xml).toContain(`<uuid>${ref.uuid}</uuid>`);
      expect(xml).toContain('/var/lib/xen/images/guest1.img');
    });

    it('pauses, unpauses, sets memory, max memory, vcpus and pinning with form-encoded POSTs', async () => {
      const ref = await drv.lookupDomainByName('guest1');
      await drv.domainSuspend(ref);
      expect(xend.requests.at(-1)).toEqual({ method: 'POST', path: '/xend/domain/guest1', form: { op: 'pause' } });
      expect((await drv.domainGetInfo(ref)).state).toBe('paused');
      await drv.domainResume(ref);
      expect((await drv.domainGetInfo(ref)).state).toBe('blocked');
      await drv.domainSetMemory(ref, 200 * 1024);
      expect(xend.requests.at(-1)!.form).toEqual({ op: 'mem_target_set', target: '200' });
      await drv.domainSetMaxMemory(ref, 512 * 1024);
      expect(xend.requests.at(-1)!.form).toEqual({ op: 'maxmem_set', memory: '512' });
      const info = await drv.domainGetInfo(ref);
      expect([info.memory, info.maxMem]).toEqual([200 * 1024, 512 * 1024]);
      await drv.domainSetVcpus(ref, 1);
      expect(xend.requests.at(-1)!.form).toEqual({ op: 'set_vcpus', vcpus: '1' });
      expect((await drv.domainGetInfo(ref)).nrVirtCpu).toBe(1);
      await drv.domainPinVcpu(ref, 1, [3, 1]);
      expect(xend.requests.at(-1)!.form).toEqual({ op: 'pincpu', vcpu: '1', cpumap: '[1,3]' });
      const vcpus = await drv.domainGetVcpus(ref);
      expect(vcpus.map((v) => [v.number, v.state, v.cpumap])).toEqual([
        [0, 'blocked', [0, 1, 2, 3]],
        [1, 'offline', [1, 3]],
      ]);
    });

    it('carries xend\'s own error text for a refused operation', async () => {
      const ref = await drv.lookupDomainByName('guest1');
      const e = await rejects(drv.domainSetVcpus(ref, 8), 'VIR_ERR_POST_FAILED', /maximum is 2/);
      expect(e.domain).toBe('VIR_FROM_XEND');
      await rejects(drv.domainSetMemory(ref, 1024 * 1024), 'VIR_ERR_POST_FAILED', /above maximum/);
      await rejects(drv.domainSetVcpus(ref, 0), 'VIR_ERR_INVALID_ARG');
      await rejects(drv.domainPinVcpu(ref, 0, []), 'VIR_ERR_INVALID_ARG');
    });

    it('shuts down with a reason, reboots and destroys', async () => {
      const ref = await drv.lookupDomainByName('guest1');
      await drv.domainReboot(ref);
      expect(xend.requests.at(-1)!.form).toEqual({ op: 'shutdown', reason: 'reboot' });
      await drv.domainShutdown(ref);
      expect(xend.requests.at(-1)!.form).toEqual({ op: 'shutdown', reason: 'poweroff' });
      await rejects(drv.lookupDomainByName('guest1'), 'VIR_ERR_NO_DOMAIN');
      const g2 = xend.addDomain({ name: 'guest2' });
      expect(await drv.domainDestroy({ name: 'guest2', uuid: g2.uuid, id: g2.domid })).toMatchObject({ id: -1 });
      expect(xend.domains.has('guest2')).toBe(false);
      await rejects(drv.domainDestroy({ name: 'guest2', uuid: g2.uuid, id: g2.domid }), 'VIR_ERR_NO_DOMAIN');
    });

    it('saves to a file and restores from it; dumps core', async () => {
      const ref = await drv.lookupDomainByName('guest1');
      const core = join(xend.dir, 'guest1.core');
      await drv.dump(ref, core, { live: true });
      expect(xend.requests.at(-1)!.form).toEqual({ op: 'dump', file: core, live: '1', crash: '0' });
      expect(readFileSync(core, 'utf8')).toContain('guest1 live=1');
      const file = join(xend.dir, 'guest1.save');
      await drv.domainSave(ref, file);
      expect(existsSync(file)).toBe(true);
      await rejects(drv.lookupDomainByName('guest1'), 'VIR_ERR_NO_DOMAIN');
      await drv.restore(file);
      expect(xend.requests.at(-1)).toEqual({ method: 'POST', path: '/xend/domain/', form: { op: 'restore', file } });
      expect((await drv.lookupDomainByName('guest1')).uuid).toBe(ref.uuid);
      await rejects(drv.restore(join(xend.dir, 'missing.save')), 'VIR_ERR_POST_FAILED', /Restore failed/);
      await rejects(drv.domainSave(ref, 'relative/path'), 'VIR_ERR_INVALID_ARG');
    });

    it('hot-plugs and unplugs devices, and migrates', async () => {
      const ref = await drv.lookupDomainByName('guest1');
      await drv.deviceCreate(ref, "(vbd (dev xvdb) (uname 'file:/tmp/extra.img') (mode r))");
      expect(xend.domains.get('guest1')!.devices).toHaveLength(2);
      expect(await drv.domainGetXMLDesc(ref, {})).toContain('/tmp/extra.img');
      await drv.deviceDestroy(ref, 'vbd', 'xvdb');
      expect(xend.requests.at(-1)!.form).toEqual({ op: 'device_destroy', type: 'vbd', dev: 'xvdb', force: '0' });
      expect(xend.domains.get('guest1')!.devices).toHaveLength(1);
      await rejects(drv.deviceDestroy(ref, 'vbd', 'xvdz'), 'VIR_ERR_POST_FAILED', /not connected/);
      await drv.migrate(ref, 'otherhost', { live: true, port: 8002 });
      expect(xend.requests.at(-1)!.form).toEqual({ op: 'migrate', destination: 'otherhost', live: '1', port: '8002' });
      expect(xend.domains.has('guest1')).toBe(false);
    });

    it('creates a transient domain from XML with POST /xend/domain/ op=create', async () => {
      const ref = await drv.createXML(PV_XML('fresh'));
      expect(ref).toMatchObject({ name: 'fresh', uuid: '8f07fe28-753f-2729-d76d-bdbd892f949a' });
      expect(ref.id).toBeGreaterThan(0);
      const req = xend.requests.find((r) => r.form.op === 'create')!;
      expect(req.path).toBe('/xend/domain/');
      expect(req.form.config).toMatch(/^\(vm /);
      await rejects(drv.createXML(PV_XML('fresh')), 'VIR_ERR_POST_FAILED', /already exists/);
    });

    if (version >= 3) {
      it('manages inactive domains: define, list inactive, start, undefine', async () => {
        const ref = await drv.defineXML(PV_XML('kept'));
        expect(ref).toMatchObject({ name: 'kept', id: -1 });
        expect(xend.requests.find((r) => r.form.op === 'new')!.path).toBe('/xend/domain/');
        expect((await drv.listAllDomains({ inactive: true })).map((r) => r.name)).toEqual(['kept']);
        expect((await drv.listAllDomains({})).map((r) => r.name).sort()).toEqual(['guest1', 'kept']);
        expect((await drv.domainGetInfo(ref)).state).toBe('shutoff');
        expect(await drv.lookupDomainByUUID(ref.uuid)).toEqual(ref);
        const started = await drv.domainCreate(ref);
        expect(started.id).toBeGreaterThan(0);
        await drv.domainDestroy(started);
        expect((await drv.lookupDomainByName('kept')).id).toBe(-1); // managed: kept, inactive
        await drv.domainUndefine(ref);
        await rejects(drv.lookupDomainByName('kept'), 'VIR_ERR_NO_DOMAIN');
      });
    } else {
      it('offers no managed-domain calls, so the routing table falls back to config files', async () => {
        expect(drv.hasManagedDomains).toBe(false);
        expect(typeof drv.defineXML).toBe('undefined');
        expect(typeof drv.domainCreate).toBe('undefined');
        expect(typeof drv.domainUndefine).toBe('undefined');
        await rejects(drv.listAllDomains({ inactive: true }), 'VIR_ERR_NO_SUPPORT', /config version/);
        expect(xend.requests.some((r) => r.path.includes('state=halted'))).toBe(false);
      });
    }
  });
}

describe('xend sub-driver failures', () => {
  let xend: SimulatedXend;
  let drv: XendSubDriver;
  beforeEach(async () => {
    xend = await startSimulatedXend({ configVersion: 4 });
    xend.addDomain({ name: 'guest1' });
    drv = await openXend({ options: { xendAddress: xend.socketPath } }, { timeoutMs: 500 });
  });
  afterEach(async () => {
    await xend.close();
  });

  const ref = () => drv.lookupDomainByName('guest1');

  it('an (xend.err …) reply to a GET is VIR_ERR_GET_FAILED with xend\'s text', async () => {
    xend.fault({ path: '/xend/domain', method: 'GET', kind: 'xend-err', message: 'Error: domain table locked' });
    await rejects(drv.listAllDomains({}), 'VIR_ERR_GET_FAILED', /domain table locked/);
  });

  it('an (xend.err …) reply to a POST is VIR_ERR_POST_FAILED with xend\'s text', async () => {
    const r = await ref();
    xend.fault({ method: 'POST', op: 'pause', kind: 'xend-err', message: 'Cannot pause: out of memory' });
    await rejects(drv.domainSuspend(r), 'VIR_ERR_POST_FAILED', /Cannot pause: out of memory/);
  });

  it('an HTTP error status is GET/POST_FAILED naming the status and body', async () => {
    xend.fault({ method: 'GET', path: '/xend/node/', kind: 'http-error', status: 503, message: 'Service Unavailable' });
    await rejects(drv.nodeGetInfo(), 'VIR_ERR_GET_FAILED', /HTTP 503: Service Unavailable/);
    const r = await ref();
    xend.fault({ method: 'POST', kind: 'http-error', status: 500 });
    await rejects(drv.domainResume(r), 'VIR_ERR_POST_FAILED', /HTTP 500/);
  });

  it('a connection dropped mid-reply is VIR_ERR_HTTP_ERROR, and the next call works', async () => {
    xend.fault({ method: 'GET', path: '/xend/domain/guest1', kind: 'drop', times: 1 });
    await rejects(ref(), 'VIR_ERR_HTTP_ERROR', /before the reply was complete|interrupted|aborted/);
    expect((await ref()).name).toBe('guest1');
  });

  it('a reply slower than the time limit is VIR_ERR_HTTP_ERROR, not a hang', async () => {
    xend.fault({ path: '/xend/domain', kind: 'slow', delayMs: 2000, times: 1 });
    const t0 = Date.now();
    await rejects(drv.listAllDomains({}), 'VIR_ERR_HTTP_ERROR', /no complete reply within 500 ms/);
    expect(Date.now() - t0).toBeLessThan(1800);
  });

  it('a slow reply within the limit is simply waited for', async () => {
    xend.fault({ path: '/xend/domain', kind: 'slow', delayMs: 150, times: 1 });
    expect(await drv.listAllDomains({})).toHaveLength(1);
  });

  it('an unreadable reply is VIR_ERR_SEXPR_SERIAL', async () => {
    xend.fault({ path: '/xend/domain/guest1', kind: 'garbage', times: 1 });
    await rejects(ref(), 'VIR_ERR_SEXPR_SERIAL', /unreadable reply/);
  });

  it('talks to xend over TCP as well (http://host:port)', async () => {
    const tcp = await startSimulatedXend({ configVersion: 3, tcp: true });
    try {
      tcp.addDomain({ name: 'overtcp' });
      expect(tcp.address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const d = await openXend({ options: { xendAddress: tcp.address } });
      expect(d.configVersion).toBe(3);
      const r = await d.lookupDomainByName('overtcp');
      await d.domainSuspend(r);
      expect(tcp.domains.get('overtcp')!.state).toBe('--p---');
    } finally {
      await tcp.close();
    }
  });

  it('open fails clearly when nothing listens, or the address is bad', async () => {
    await rejects(openXend({ options: { xendAddress: join(xend.dir, 'nobody-here') } }), 'VIR_ERR_HTTP_ERROR', /cannot connect \(ENOENT\): is xend running\?/);
    await rejects(openXend({ options: { xendAddress: 'ftp://host' } }), 'VIR_ERR_INVALID_ARG');
    await rejects(openXend({ options: { xendAddress: 'http://127.0.0.1:1' } }), 'VIR_ERR_HTTP_ERROR', /ECONNREFUSED/);
  });
});
