/**
 * The config-file sub-driver against real temporary directories: which files count,
 * the mtime cache and its rescans, atomic defines, name safety, undefine, autostart,
 * and the same through connect('xen:///') with only this sub-driver open.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { EventEmitter } from 'node:events';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, ErrorCode, VirError } from '../../lib/index.js';
import { ConfigFilesSubDriver, configFilesSubDriverFactory } from '../../lib/drivers/xen/configfiles-subdriver.js';
import { checkDomainFileName } from '../../lib/drivers/xen/config-files.js';
import type { SubDriverContext } from '../../lib/drivers/xen/subdriver.js';
import { domainFromXL } from '../../lib/convert/xl-config.js';
import { rejection } from '../helpers/rejection.js';

const U1 = 'c7a5fdbd-edaf-9455-926a-d65c16db1809';
const U2 = 'c7a5fdbd-edaf-9455-926a-d65c16db1802';

function xl(name: string, uuid: string, memory = 128): string {
  return `name = "${name}"\nuuid = "${uuid}"\nmemory = ${memory}\nmaxmem = ${memory}\nvcpus = 1\nkernel = "/boot/vmlinuz"\n`;
}

function xml(name: string, uuid: string, mib = 128): string {
  return `<domain type='xen'><name>${name}</name><uuid>${uuid}</uuid><memory unit='MiB'>${mib}</memory><currentMemory unit='MiB'>${mib}</currentMemory><vcpu>1</vcpu><os><type>linux</type><kernel>/boot/vmlinuz</kernel></os><devices/></domain>`;
}

let dir: string;
let logs: string[];
function ctx(extra: Partial<SubDriverContext['options']> = {}): SubDriverContext {
  return { uri: new URL('xen:///'), options: { configDir: dir, ...extra }, privileged: true, readOnly: false, events: new EventEmitter(), log: (m) => logs.push(m) };
}

const opened: ConfigFilesSubDriver[] = [];
function sub(maxAgeMs = 60_000): ConfigFilesSubDriver {
  const s = new ConfigFilesSubDriver(dir, ctx(), { maxAgeMs });
  opened.push(s);
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xenvirt-confdir-'));
  logs = [];
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('config dir scan', () => {
  it('lists domain configs and skips dotfiles, backups, xend/xl settings, examples, non-regular and empty files', async () => {
    await writeFile(join(dir, 'web'), xl('web', U1));
    await writeFile(join(dir, 'db.cfg'), xl('db', U2));
    const skipped = [
      '.hidden', '.#web', 'web~', '#web#', 'web.bak', 'web.swp', '.web.swp', 'web.dpkg-old', 'xend-config.sxp', 'xend-config.sxp.default',
      'xend-config-xenapi.sxp', 'xend-pci-quirks.sxp', 'xmexample1', 'xlexample.hvm', 'xl.conf', 'oxenstored.conf', 'cpupool', 'README', 'README.incompatibilities',
    ];
    for (const [i, n] of skipped.entries()) await writeFile(join(dir, n), xl(`skip${i}`, `c7a5fdbd-edaf-9455-926a-d65c16db18${String(10 + i)}`));
    await writeFile(join(dir, 'empty'), '');
    await mkdir(join(dir, 'auto'));
    await writeFile(join(dir, 'auto', 'web'), xl('auto-copy', U1));
    await mkdir(join(dir, 'scripts'));
    await writeFile(join(dir, 'scripts', 'vif-bridge'), '#!/bin/sh\n');
    await mkdir(join(dir, 'subdir'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    await writeFile(join(dir, 'broken'), 'this is = not [ a config');
    const s = sub();
    const names = (await s.listAllDomains()).map((d) => d.name).sort();
    expect(names).toEqual(['db', 'web']);
    expect(s.reads).toBe(3); // web, db.cfg, broken: nothing else was even opened
    expect(logs.filter((l) => l.includes('broken'))).toHaveLength(1);
    await s.listAllDomains();
    expect(logs.filter((l) => l.includes('broken'))).toHaveLength(1); // reported once
  });

  it('follows a symlink to a regular file (users link configs in)', async () => {
    await writeFile(join(dir, 'real.cfg.txt'), xl('linked', U1));
    const other = await mkdtemp(join(tmpdir(), 'xenvirt-conf-other-'));
    try {
      await writeFile(join(other, 'x'), xl('outside', U2));
      await symlink(join(other, 'x'), join(dir, 'outside'));
      expect((await sub().listAllDomains()).map((d) => d.name).sort()).toEqual(['linked', 'outside']);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('caches by mtime: unchanged files are not re-read, changed ones are', async () => {
    await writeFile(join(dir, 'web'), xl('web', U1, 128));
    const s = sub(0); // rescan on every call
    expect((await s.domainGetInfo({ name: 'web', uuid: U1, id: -1 })).maxMem).toBe(131072);
    await s.listAllDomains();
    await s.listAllDomains();
    expect(s.reads).toBe(1);
    await writeFile(join(dir, 'web'), xl('web', U1, 256));
    await utimes(join(dir, 'web'), new Date(), new Date(Date.now() + 5000));
    expect((await s.domainGetInfo({ name: 'web', uuid: U1, id: -1 })).maxMem).toBe(262144);
    expect(s.reads).toBe(2);
  });

  it('without a watch, a change shows up after the bounded rescan interval, not before', async () => {
    await writeFile(join(dir, 'web'), xl('web', U1));
    const s = sub(300);
    expect(await s.listAllDomains()).toHaveLength(1);
    await writeFile(join(dir, 'db'), xl('db', U2));
    expect(await s.listAllDomains()).toHaveLength(1); // still the cached view
    await sleep(350);
    expect(await s.listAllDomains()).toHaveLength(2);
  });

  it('with the fs watch, the directory is read once: calls do not rescan until it reports a change', async () => {
    await writeFile(join(dir, 'web'), xl('web', U1));
    const s = sub(0); // without a watch this would rescan on every call
    s.startWatch();
    for (let i = 0; i < 5; i++) await s.listAllDomains();
    await s.lookupDomainByName('web');
    expect(s.scans).toBe(1);
    expect(s.reads).toBe(1);
    await writeFile(join(dir, 'db'), xl('db', U2));
    let n = 1;
    for (let i = 0; i < 200 && n === 1; i++) {
      await sleep(20);
      n = (await s.listAllDomains()).length;
    }
    expect(n).toBe(2);
    expect(s.reads).toBe(2); // web was not read again
  });

  it('with the fs watch, a change shows up without waiting for the interval', async () => {
    await writeFile(join(dir, 'web'), xl('web', U1));
    const s = sub(3_600_000);
    s.startWatch();
    expect(await s.listAllDomains()).toHaveLength(1);
    await writeFile(join(dir, 'db'), xl('db', U2));
    let n = 1;
    for (let i = 0; i < 100 && n === 1; i++) {
      await sleep(20);
      n = (await s.listAllDomains()).length;
    }
    expect(n).toBe(2);
    await rm(join(dir, 'web'));
    for (let i = 0; i < 100 && n === 2; i++) {
      await sleep(20);
      n = (await s.listAllDomains()).length;
    }
    expect(n).toBe(1);
  });
});

describe('defineXML', () => {
  it('writes <dir>/<name> in xl syntax, 0600, with no temp file left behind', async () => {
    const s = sub();
    expect(await s.defineXML(xml('web', U1))).toEqual({ name: 'web', uuid: U1, id: -1 });
    const text = await readFile(join(dir, 'web'), 'utf8');
    const def = domainFromXL(text);
    expect(def.name).toBe('web');
    expect(def.uuid).toBe(U1);
    expect(def.memory).toBe(131072);
    expect((await stat(join(dir, 'web'))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['web']);
    // and a fresh sub-driver reads it back
    expect(await sub().lookupDomainByUUID(U1)).toEqual({ name: 'web', uuid: U1, id: -1 });
  });

  it('redefining the same domain replaces its file; the new content is what is read', async () => {
    const s = sub();
    await s.defineXML(xml('web', U1, 128));
    await s.defineXML(xml('web', U1, 256));
    expect((await s.domainGetInfo({ name: 'web', uuid: U1, id: -1 })).maxMem).toBe(262144);
    expect((await sub().domainGetInfo({ name: 'web', uuid: U1, id: -1 })).maxMem).toBe(262144);
  });

  it('refuses a UUID used by another name, and a name defined with another UUID', async () => {
    const s = sub();
    await s.defineXML(xml('web', U1));
    const e1 = await rejection(s.defineXML(xml('other', U1)));
    expect(e1.code).toBe(ErrorCode.DOM_EXIST);
    expect(e1.message).toContain("'web'");
    const e2 = await rejection(s.defineXML(xml('web', U2)));
    expect(e2.code).toBe(ErrorCode.DOM_EXIST);
    expect(await readdir(dir)).toEqual(['web']);
  });

  it('never overwrites <dir>/<name> when it holds something else', async () => {
    await writeFile(join(dir, 'web'), xl('notweb', U2));
    await writeFile(join(dir, 'junk'), 'garbage = [');
    const s = sub();
    expect((await rejection(s.defineXML(xml('web', U1)))).code).toBe(ErrorCode.DOM_EXIST);
    expect((await rejection(s.defineXML(xml('junk', U1)))).code).toBe(ErrorCode.DOM_EXIST);
    expect(await readFile(join(dir, 'web'), 'utf8')).toBe(xl('notweb', U2));
  });

  it.each([
    ['a/b', "contains '/'"],
    ['..', 'contains'],
    ['a..b', "contains '..'"],
    ['.hidden', 'starts with a dot'],
    ['x'.repeat(256), 'longer than 255 bytes'],
    ['é'.repeat(128), 'longer than 255 bytes'],
    ['web~', 'not read back'],
    ['xmexample2', 'not read back'],
    ['nul\0byte', 'NUL'],
  ])('refuses the unsafe file name %j', async (name, why) => {
    expect(() => checkDomainFileName(name)).toThrow(why);
    try {
      checkDomainFileName(name);
    } catch (e) {
      expect((e as VirError).code).toBe(ErrorCode.INVALID_ARG);
    }
    if (!name.includes('\0')) {
      const e = await rejection(sub().defineXML(xml(name, U1)));
      expect([ErrorCode.INVALID_ARG, ErrorCode.XML_ERROR, ErrorCode.XML_DETAIL]).toContain(e.code);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('accepts a 255-byte name', async () => {
    const name = 'n'.repeat(255);
    await sub().defineXML(xml(name, U1));
    expect(await readdir(dir)).toEqual([name]);
  });

  it('bad XML: the parser\'s error, nothing written', async () => {
    const e = await rejection(sub().defineXML('<domain><name>x</name>'));
    expect(e.message.length).toBeGreaterThan(10);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('lookups, info, XML, undefine, autostart', () => {
  it('finds by name and UUID; unknown ones are VIR_ERR_NO_DOMAIN', async () => {
    await writeFile(join(dir, 'web.cfg'), xl('web', U1));
    const s = sub();
    expect(await s.lookupDomainByName('web')).toEqual({ name: 'web', uuid: U1, id: -1 });
    expect(await s.lookupDomainByUUID(U1.toUpperCase())).toEqual({ name: 'web', uuid: U1, id: -1 });
    expect((await rejection(s.lookupDomainByName('nope'))).code).toBe(ErrorCode.NO_DOMAIN);
    expect((await rejection(s.lookupDomainByUUID(U2))).code).toBe(ErrorCode.NO_DOMAIN);
  });

  it('inactive info and XML come from the file through the xl converter', async () => {
    await writeFile(join(dir, 'web'), xl('web', U1, 192));
    const s = sub();
    const ref = { name: 'web', uuid: U1, id: -1 };
    expect(await s.domainGetInfo(ref)).toEqual({ state: 'shutoff', maxMem: 196608, memory: 196608, nrVirtCpu: 1, cpuTime: 0 });
    const x = await s.domainGetXMLDesc(ref, {});
    expect(x).toContain('<name>web</name>');
    expect(x).toContain(`<uuid>${U1}</uuid>`);
    expect(x).toContain('<kernel>/boot/vmlinuz</kernel>');
    // a running domain's state is not the file's to tell
    expect((await rejection(s.domainGetInfo({ ...ref, id: 3 }))).code).toBe(ErrorCode.NO_SUPPORT);
  });

  it('undefine removes the file and its autostart link; a second undefine finds nothing', async () => {
    const s = sub();
    const ref = await s.defineXML(xml('web', U1));
    await s.domainSetAutostart(ref, true);
    await s.domainUndefine(ref);
    expect(await readdir(dir)).toEqual(['auto']);
    expect(await readdir(join(dir, 'auto'))).toEqual([]);
    expect((await rejection(s.domainUndefine(ref))).code).toBe(ErrorCode.NO_DOMAIN);
  });

  it('autostart is the auto/<file> symlink to the config', async () => {
    const s = sub();
    const ref = await s.defineXML(xml('web', U1));
    expect(await s.domainGetAutostart(ref)).toBe(false);
    await s.domainSetAutostart(ref, true);
    await s.domainSetAutostart(ref, true); // idempotent
    expect(await s.domainGetAutostart(ref)).toBe(true);
    expect(await readlink(join(dir, 'auto', 'web'))).toBe(join(dir, 'web'));
    expect(await readdir(join(dir, 'auto'))).toEqual(['web']);
    await s.domainSetAutostart(ref, false);
    expect(await s.domainGetAutostart(ref)).toBe(false);
    await expect(lstat(join(dir, 'auto', 'web'))).rejects.toThrow();
  });

  it('will not replace a regular file in auto/ with a link', async () => {
    const s = sub();
    const ref = await s.defineXML(xml('web', U1));
    await mkdir(join(dir, 'auto'));
    await writeFile(join(dir, 'auto', 'web'), 'mine');
    expect((await rejection(s.domainSetAutostart(ref, true))).code).toBe(ErrorCode.OPERATION_FAILED);
    expect(await readFile(join(dir, 'auto', 'web'), 'utf8')).toBe('mine');
  });
});

describe('the factory', () => {
  it('refuses a missing directory and a file', async () => {
    const missing = await rejection(configFilesSubDriverFactory.open(ctx({ configDir: join(dir, 'missing') })));
    expect(missing.code).toBe(ErrorCode.SYSTEM_ERROR);
    expect(missing.syscall).toBe('ENOENT');
    await writeFile(join(dir, 'f'), 'x');
    expect((await rejection(configFilesSubDriverFactory.open(ctx({ configDir: join(dir, 'f') })))).code).toBe(ErrorCode.OPEN_FAILED);
  });
});

describe('through connect("xen:///") with only the config sub-driver', () => {
  it('define -> listed as defined -> XML -> autostart -> undefine', async () => {
    const c = await connect('xen:///', { xen: { privileged: true, configDir: dir, disable: ['hypervisor', 'xenstore', 'toolstack', 'xend', 'proxy'] } });
    try {
      const d = await c.defineXML(xml('web', U1));
      expect(d.id).toBe(-1);
      expect((await c.listAllDomains({ inactive: true })).map((x) => x.name)).toEqual(['web']);
      expect(await c.listAllDomains({ active: true })).toEqual([]);
      expect(await d.getXMLDesc()).toContain('<name>web</name>');
      expect((await d.getInfo()).state).toBe('shutoff');
      await d.setAutostart(true);
      expect(await d.getAutostart()).toBe(true);
      // starting needs the toolstack, which is not open here
      await expect(d.create()).rejects.toMatchObject({ code: ErrorCode.NO_SUPPORT });
      await d.undefine();
      await expect(c.lookupDomainByName('web')).rejects.toMatchObject({ code: ErrorCode.NO_DOMAIN });
      expect(await readdir(dir)).toEqual(['auto']);
    } finally {
      await c.close();
    }
  });
});
