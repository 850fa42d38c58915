/**
 * The fallback rule (lib/drivers/xen/fallback.ts), both sides of it per policy, through
 * the unified driver over REAL sub-drivers: the XenStore sub-driver on Debian's C
 * xenstored, the config-file sub-driver on a temp dir, and the toolstack sub-driver
 * running fake-xl.sh (xl cannot run without Xen; the fake records argv and fails on
 * demand). Only the hypervisor is a fake (privcmd needs Xen), named so.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, XenStore } from '../../lib/index.js';
import { xenstoreSubDriverFactory } from '../../lib/drivers/xen/xenstore-subdriver.js';
import { configFilesSubDriverFactory } from '../../lib/drivers/xen/configfiles-subdriver.js';
import { ToolstackSubDriver } from '../../lib/drivers/xen/toolstack-subdriver.js';
import { UnifiedXenDriver } from '../../lib/drivers/xen/unified.js';
import type { SubDriver, SubDriverContext, SubDriverName } from '../../lib/drivers/xen/subdriver.js';
import type { DomainRef, HypervisorDriver } from '../../lib/driver.js';
import { fallbackVerdict, declined } from '../../lib/drivers/xen/fallback.js';
import { VirError } from '../../lib/errors.js';
import { skipReason, startXenstored, type RunningXenstored } from '../helpers/xenstored.js';
import { rejection } from '../helpers/rejection.js';
import { failure, fakeSubDriver, type FakeSubDriver } from './fake-subdrivers.js';
import { cuttable } from '../helpers/cuttable-socket.js';

const FAKE_XL = join(dirname(fileURLToPath(import.meta.url)), 'fake-xl.sh');
const WEB = { name: 'web', uuid: '4d3b6f38-3c1e-4b0c-9f0e-1f2a3b4c5d6e', id: 3 };
const DB_UUID = '7a7a7a7a-0000-4000-8000-00000000000d';


describe('fallbackVerdict: the rule written once', () => {
  const at = (code: string, sub: SubDriverName = 'xenstore', runningDomain = true) => fallbackVerdict(failure(code), { sub, runningDomain });
  it('moves on for not supported, not open, transport, timeout and the management layer failing', () => {
    for (const c of [ErrorCode.NO_SUPPORT, ErrorCode.INVALID_CONN, ErrorCode.NO_CONNECT, ErrorCode.NO_XEN, ErrorCode.NO_XENSTORE, ErrorCode.RPC, ErrorCode.OPERATION_TIMEOUT, ErrorCode.OPERATION_FAILED, ErrorCode.INTERNAL_ERROR, ErrorCode.SYSTEM_ERROR]) {
      expect(at(c), c).toBe('moves-on');
    }
    expect(fallbackVerdict(declined(failure(ErrorCode.OPERATION_INVALID)), { sub: 'hypervisor', runningDomain: false })).toBe('moves-on');
  });
  it('is final for invalid argument, denied, conflicts, and "no such domain" from a live source about a running domain', () => {
    for (const c of [ErrorCode.INVALID_ARG, ErrorCode.OPERATION_DENIED, ErrorCode.OPERATION_INVALID, ErrorCode.DOM_EXIST, ErrorCode.XML_ERROR]) expect(at(c), c).toBe('final');
    expect(at(ErrorCode.NO_DOMAIN, 'xenstore', true)).toBe('final');
    expect(at(ErrorCode.NO_DOMAIN, 'hypervisor', true)).toBe('final');
    // Not authoritative: the config files, the toolstack, or a lookup (each source knows part).
    expect(at(ErrorCode.NO_DOMAIN, 'configfiles', true)).toBe('moves-on');
    expect(at(ErrorCode.NO_DOMAIN, 'toolstack', true)).toBe('moves-on');
    expect(at(ErrorCode.NO_DOMAIN, 'xenstore', false)).toBe('moves-on');
  });
});

describe.skipIf(skipReason('c'))('fallback by kind of failure, real sub-drivers (C xenstored, config dir, fake xl)', () => {
  let daemon: RunningXenstored;
  let xs: XenStore;
  let work: string;
  let configDir: string;
  let xlLog: string;
  let pass: { path: string; cut(): Promise<void> };
  let subs: Map<SubDriverName, SubDriver>;
  let hv: FakeSubDriver;
  let drv: Record<string, (...a: unknown[]) => Promise<any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  let logged: string[];

  function ctx(options: SubDriverContext['options']): SubDriverContext {
    return { uri: new URL('xen:///'), options, privileged: true, readOnly: false, events: new EventEmitter(), log: () => {} };
  }
  function xlCalls(): string[] {
    return existsSync(xlLog) ? readFileSync(xlLog, 'utf8').split('\n').filter((l) => l.startsWith('arg=')).map((l) => l.slice(4)) : [];
  }

  beforeAll(async () => {
    daemon = await startXenstored('c');
    xs = await XenStore.open({ path: daemon.socket });
    await xs.write('/local/domain/0/name', 'Domain-0');
    await xs.write('/local/domain/3/name', WEB.name);
    await xs.write('/local/domain/3/vm', `/vm/${WEB.uuid}`);
    await xs.write('/local/domain/3/memory/target', '131072');
    await xs.write('/local/domain/3/memory/static-max', '262144');
    await xs.introduceDomain(WEB.id, 0x1000, 7);
  }, 60_000);
  afterAll(async () => {
    await xs?.close();
    await daemon?.stop();
  });

  beforeEach(async () => {
    work = mkdtempSync(join(tmpdir(), 'xenvirt-fallback-'));
    configDir = join(work, 'xen');
    rmSync(configDir, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(configDir);
    // The running guest's config as xl users keep it: no uuid line.
    writeFileSync(join(configDir, 'web.cfg'), 'name = "web"\nmemory = 128\nkernel = "/boot/vmlinuz"\n');
    writeFileSync(join(configDir, 'db'), `name = "db"\nuuid = "${DB_UUID}"\nmemory = 256\nvcpus = 2\nkernel = "/boot/vmlinuz"\n`);
    xlLog = join(work, 'xl.log');
    process.env.FAKE_XL_LOG = xlLog;
    delete process.env.FAKE_XL_MODE;
    delete process.env.FAKE_XL_STDERR;
    pass = await cuttable(daemon.socket, work);
    hv = fakeSubDriver('hypervisor', { domainSuspend: { answer: undefined }, domainDestroy: { answer: { ...WEB, id: -1 } }, domainSetMaxMemory: { answer: undefined } });
    subs = new Map<SubDriverName, SubDriver>([
      ['hypervisor', hv],
      ['xenstore', await xenstoreSubDriverFactory.open(ctx({ xenstorePath: pass.path }))],
      ['configfiles', await configFilesSubDriverFactory.open(ctx({ configDir }))],
      ['toolstack', new ToolstackSubDriver(FAKE_XL)],
    ]);
    logged = [];
    drv = new UnifiedXenDriver(subs, { log: (m) => logged.push(m) }).driver() as never;
  });
  afterEach(async () => {
    for (const s of subs.values()) await s.close();
    await pass.cut().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  });

  describe('first-success (domainSetMemory: XenStore, then xl)', () => {
    it('final: memory above the maximum is INVALID_ARG from XenStore, and xl is NOT called', async () => {
      const e = await rejection(drv.domainSetMemory!(WEB, 300_000));
      expect(e.code).toBe(ErrorCode.INVALID_ARG);
      expect(xlCalls()).toEqual([]);
      expect(await xs.read('/local/domain/3/memory/target')).toBe('131072');
    });
    it('moves on: XenStore unreachable, xl mem-set does it', async () => {
      await pass.cut();
      await drv.domainSetMemory!(WEB, 98_304);
      expect(xlCalls()).toEqual(['mem-set', 'web', '98304k']);
      expect(logged.join('\n')).toMatch(/domainSetMemory: xenstore failed .*trying the next/);
    });
    it('final: XenStore says the running domain is gone (id reused): xl is NOT called', async () => {
      const e = await rejection(drv.domainShutdown!({ ...WEB, uuid: DB_UUID }));
      expect(e.code).toBe(ErrorCode.NO_DOMAIN);
      expect(xlCalls()).toEqual([]);
    });
    it('declined by every live sub-driver: an inactive domain cannot be shut down, nothing runs', async () => {
      const e = await rejection(drv.domainShutdown!({ name: 'db', uuid: DB_UUID, id: -1 }));
      expect(e.code).toBe(ErrorCode.OPERATION_INVALID);
      expect(e.message).toMatch(/not running/);
      expect(xlCalls()).toEqual([]);
    });
  });

  describe('hypervisor-last (suspend, destroy, setMaxMemory: xl, then the hypervisor)', () => {
    it('the toolstack answers: the hypervisor is not called', async () => {
      await drv.domainSuspend!(WEB);
      expect(xlCalls()).toEqual(['pause', 'web']);
      expect(hv.calls).toEqual([]);
    });
    it('moves on: xl fails, the hypervisor acts (only then)', async () => {
      process.env.FAKE_XL_MODE = 'fail';
      await drv.domainSuspend!(WEB);
      await drv.domainSetMaxMemory!(WEB, 262_144);
      expect(xlCalls()).toEqual(['pause', 'web', 'mem-max', 'web', '262144k']);
      expect(hv.calls.map((c) => c.method)).toEqual(['domainSuspend', 'domainSetMaxMemory']);
    });
    it('final: xl says permission denied, the hypervisor is not called', async () => {
      process.env.FAKE_XL_MODE = 'fail';
      process.env.FAKE_XL_STDERR = 'xl: Permission denied';
      const e = await rejection(drv.domainDestroy!(WEB));
      expect(e.code).toBe(ErrorCode.OPERATION_DENIED);
      expect(hv.calls).toEqual([]);
    });
  });

  describe('live-first (lookups): live facts from live sources, config files only add inactive ones', () => {
    it('a running guest is found running, although its config file is there too', async () => {
      expect(await drv.lookupDomainByName!('web')).toEqual(WEB);
      expect(await drv.lookupDomainByUUID!(WEB.uuid)).toEqual(WEB);
    });
    it('moves on: not running anywhere live, so the config file answers (inactive)', async () => {
      expect(await drv.lookupDomainByName!('db')).toEqual({ name: 'db', uuid: DB_UUID, id: -1 });
      expect(await drv.lookupDomainByUUID!(DB_UUID)).toEqual({ name: 'db', uuid: DB_UUID, id: -1 });
    });
    it('stops: XenStore unreachable, so "web" is NOT reported shut off from its file', async () => {
      await pass.cut();
      const e = await rejection(drv.lookupDomainByName!('web'));
      expect(e.code).not.toBe(ErrorCode.NO_DOMAIN);
      expect(logged.join('\n')).toMatch(/may be running/);
    });
  });

  describe('merge (listAllDomains)', () => {
    it('lists the running guest once (matched to its uuid-less config by name) and adds the inactive one', async () => {
      const list = (await drv.listAllDomains!({})) as DomainRef[];
      expect(list.map((d) => [d.name, d.id])).toEqual([['Domain-0', 0], ['web', 3], ['db', -1]]);
      expect((await drv.listAllDomains!({ inactive: true })).map((d: DomainRef) => d.name)).toEqual(['db']);
    });
    it('every live source down: an error, not a list that shows running guests missing', async () => {
      await pass.cut();
      const e = await rejection(drv.listAllDomains!({}));
      expect(e).toBeInstanceOf(VirError);
    });
  });

  describe('first-success (domainGetInfo): live sub-drivers decline inactive domains', () => {
    it('the config file answers for an inactive domain', async () => {
      const info = await (drv.domainGetInfo as HypervisorDriver['domainGetInfo'])!({ name: 'db', uuid: DB_UUID, id: -1 });
      expect(info).toMatchObject({ state: 'shutoff', maxMem: 262_144, nrVirtCpu: 2 });
    });
  });
});
