/**
 * The toolstack sub-driver's use of `xl`, with fake-xl.sh standing in for xl (which
 * needs a running Xen): the exact argv it gets (no shell, nothing interpreted), the
 * config it is handed, xl's stderr as the error message, bounded time, open rules.
 * The real xl is exercised by the in-dom0 suite (test/xen/suites/unified-lifecycle.xen.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '../../lib/index.js';
import { ToolstackSubDriver, toolstackSubDriverFactory } from '../../lib/drivers/xen/toolstack-subdriver.js';
import { runXl } from '../../lib/drivers/xen/xl-runner.js';
import { domainFromXL } from '../../lib/convert/xl-config.js';
import type { SubDriverContext } from '../../lib/drivers/xen/subdriver.js';
import { rejection } from '../helpers/rejection.js';

const FAKE_XL = join(dirname(fileURLToPath(import.meta.url)), 'fake-xl.sh');
const UUID = '4d3b6f38-3c1e-4b0c-9f0e-1f2a3b4c5d6e';
const REF = { name: 'web', uuid: UUID, id: 7 };
const XML = `<domain type='xen'><name>web</name><uuid>${UUID}</uuid><memory unit='MiB'>128</memory><currentMemory unit='MiB'>128</currentMemory><vcpu>1</vcpu><os><type>linux</type><kernel>/boot/vmlinuz</kernel><cmdline>console=hvc0 x="a b" ; rm -rf / $(id)</cmdline></os><devices/></domain>`;

let dir: string;
let log: string;

async function argvs(): Promise<string[][]> {
  const text = await readFile(log, 'utf8').catch(() => '');
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('argc=')) out.push([]);
    else if (line.startsWith('arg=')) out[out.length - 1]!.push(line.slice(4));
  }
  return out;
}

function ctx(options: SubDriverContext['options'] = {}, privileged = true): SubDriverContext {
  return { uri: new URL('xen:///'), options, privileged, readOnly: false, events: new EventEmitter(), log: () => {} };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xenvirt-xl-test-'));
  log = join(dir, 'argv.log');
  process.env.FAKE_XL_LOG = log;
  delete process.env.FAKE_XL_MODE;
  delete process.env.FAKE_XL_STDERR;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('toolstack sub-driver over (fake) xl', () => {
  it('createXML: converts to an xl config, runs `xl create FILE`, then `xl domid NAME`, and cleans up', async () => {
    const ts = new ToolstackSubDriver(FAKE_XL);
    const before = new Set(await readdir(tmpdir()));
    expect(await ts.createXML(XML)).toEqual({ name: 'web', uuid: UUID, id: 7 });
    const calls = await argvs();
    expect(calls[0]![0]).toBe('create');
    expect(calls[0]).toHaveLength(2);
    expect(calls[1]).toEqual(['domid', 'web']);
    const def = domainFromXL(await readFile(`${log}.cfg`, 'utf8'));
    expect(def.name).toBe('web');
    expect(def.uuid).toBe(UUID);
    expect(def.os.cmdline).toBe('console=hvc0 x="a b" ; rm -rf / $(id)');
    // the private temp dir holding the config is gone
    const left = (await readdir(tmpdir())).filter((n) => n.startsWith('xenvirt-xl-') && !before.has(n) && join(tmpdir(), n) !== dir);
    expect(left).toEqual([]);
  });

  it('domainCreate starts the given definition and refuses one for another domain', async () => {
    const ts = new ToolstackSubDriver(FAKE_XL);
    expect(await ts.domainCreate({ ...REF, id: -1 }, XML)).toEqual(REF);
    const other = XML.replace(UUID, '00000000-1111-2222-3333-444444444444');
    expect((await rejection(ts.domainCreate({ ...REF, id: -1 }, other))).code).toBe(ErrorCode.INTERNAL_ERROR);
  });

  it('passes names and paths as single arguments, never through a shell', async () => {
    const ts = new ToolstackSubDriver(FAKE_XL);
    const odd = { name: 'a b;$(touch x)`id`', uuid: UUID, id: 9 };
    await ts.domainSuspend(odd);
    await ts.domainSave(odd, '-rf x/../img with space');
    await ts.domainSetMemory(REF, 65536);
    await ts.domainSetMaxMemory(REF, 131072);
    await ts.domainSetVcpus(REF, 2);
    await ts.restore('/tmp/img');
    await ts.domainCoreDump(REF, '/tmp/core');
    const calls = await argvs();
    expect(calls).toEqual([
      ['pause', 'a b;$(touch x)`id`'],
      ['save', 'a b;$(touch x)`id`', resolve('-rf x/../img with space')],
      ['mem-set', 'web', '65536k'],
      ['mem-max', 'web', '131072k'],
      ['vcpu-set', 'web', '2'],
      ['restore', '/tmp/img'],
      ['dump-core', 'web', '/tmp/core'],
    ]);
    expect(existsSync('x')).toBe(false);
  });

  it('names an all-digit domain by id (xl would read the name as an id)', async () => {
    const ts = new ToolstackSubDriver(FAKE_XL);
    await ts.domainDestroy({ name: '42', uuid: UUID, id: 7 });
    await ts.domainShutdown(REF);
    await ts.domainReboot(REF);
    await ts.domainResume(REF);
    expect(await argvs()).toEqual([['destroy', '7'], ['shutdown', 'web'], ['reboot', 'web'], ['unpause', 'web']]);
  });

  it('refuses a domain that is not running without running xl', async () => {
    const ts = new ToolstackSubDriver(FAKE_XL);
    expect((await rejection(ts.domainSuspend({ ...REF, id: -1 }))).code).toBe(ErrorCode.OPERATION_INVALID);
    expect(await argvs()).toEqual([]);
  });

  it("xl's stderr becomes the error message, with a code from what it said", async () => {
    const ts = new ToolstackSubDriver(FAKE_XL);
    process.env.FAKE_XL_MODE = 'fail';
    process.env.FAKE_XL_STDERR = "invalid domain identifier 'web'";
    const e = await rejection(ts.domainSuspend(REF));
    expect(e.code).toBe(ErrorCode.NO_DOMAIN);
    expect(e.message).toContain('xl pause failed');
    expect(e.message).toContain("invalid domain identifier 'web'");
    process.env.FAKE_XL_STDERR = 'xl: out of memory';
    const e2 = await rejection(ts.createXML(XML));
    expect(e2.code).toBe(ErrorCode.OPERATION_FAILED);
    expect(e2.message).toContain('xl create failed');
    expect(e2.message).toContain('out of memory');
  });

  it('a hung xl is killed after its time bound', async () => {
    process.env.FAKE_XL_MODE = 'slow';
    const t0 = Date.now();
    const e = await rejection(runXl(FAKE_XL, ['pause', 'web'], 300));
    expect(e.code).toBe(ErrorCode.OPERATION_TIMEOUT);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('getVersion from xl info', async () => {
    expect(await new ToolstackSubDriver(FAKE_XL).getVersion()).toBe(4_017_007);
  });

  it('after close, calls fail without running xl', async () => {
    const ts = new ToolstackSubDriver(FAKE_XL);
    await ts.close();
    expect((await rejection(ts.domainSuspend(REF))).code).toBe(ErrorCode.INVALID_CONN);
    expect(await argvs()).toEqual([]);
  });
});

describe('toolstack sub-driver open', () => {
  it('needs root, and an xl it can find', async () => {
    expect((await rejection(toolstackSubDriverFactory.open(ctx({ xlPath: FAKE_XL }, false)))).code).toBe(ErrorCode.OPERATION_DENIED);
    expect((await rejection(toolstackSubDriverFactory.open(ctx({ xlPath: join(dir, 'no-xl') })))).code).toBe(ErrorCode.NO_SUPPORT);
    const ts = (await toolstackSubDriverFactory.open(ctx({ xlPath: FAKE_XL }))) as ToolstackSubDriver;
    expect(ts.xl).toBe(FAKE_XL);
  });
});
