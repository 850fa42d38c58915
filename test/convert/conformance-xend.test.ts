/**
 * The xend 1-3 conformance runner (libvirt 1.2.0's fixtures) compares by meaning: layout
 * differences pass, a changed key, value or device fails; per-version counts and a
 * closing line CI can count; missing fixtures fail under CI=true only.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareDomainXml, compareSexpr, compareXm } from '../../scripts/conformance-meaning.js';

const repo = resolve(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'xenvirt-conf-xend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(env: Record<string, string>): { out: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'scripts/conformance-xend.ts')], { cwd: repo, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { out: r.stdout + r.stderr, status: r.status };
}

describe('comparison by meaning', () => {
  it('S-expressions: order of keys is layout, a value or a device is meaning', () => {
    expect(compareSexpr("(vm (name 'a')(memory 64)(device (vbd (dev 'xvda'))))", '(vm (memory 64)(name a)(device (vbd (dev xvda))))')).toEqual([]);
    expect(compareSexpr("(vm (name 'a')(memory 64))", "(vm (name 'a')(memory 65))")).toHaveLength(2);
    const twoDevices = "(vm (device (vbd (dev 'xvda')))(device (vbd (dev 'xvdb'))))";
    expect(compareSexpr(twoDevices, "(vm (device (vbd (dev 'xvdb')))(device (vbd (dev 'xvda'))))")).not.toEqual([]);
    expect(compareSexpr("(vm (localtime 0)(image (linux (kernel k))))", "(vm (localtime 0)(image (linux (kernel k)(localtime 0))))")).toEqual([]);
    expect(compareSexpr("(vm (localtime 0)(image (linux (kernel k))))", "(vm (localtime 0)(image (linux (kernel k)(localtime 1))))")).toHaveLength(1);
  });

  it('xm configs: pairs inside a vif in any order, defaults may be left out, anything else differs', () => {
    expect(compareXm('vif = [ "mac=00:16:3e:00:00:01,bridge=br0" ]\n', 'vif = [ "bridge=br0,mac=00:16:3e:00:00:01" ]\nlocaltime = 0\n')).toEqual([]);
    expect(compareXm('vif = [ "bridge=br0,type=ioemu" ]\n', 'vif = [ "bridge=br0" ]\n')).toHaveLength(1);
    expect(compareXm('disk = [ "phy:/dev/a,ioemu:hda,w" ]\n', 'disk = [ "phy:/dev/a,hda,w" ]\n')).toHaveLength(1);
    expect(compareXm('localtime = 1\n', '')).toHaveLength(1);
  });

  it('domain XML: today\'s implied devices and clock spelling are layout', () => {
    const old = "<domain type='xen'><name>a</name><uuid>596a5d21-71f4-8fb2-e068-e2386a5c413e</uuid><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type><loader>/usr/lib/xen/boot/hvmloader</loader></os><clock offset='utc'/><devices><graphics type='vnc' port='-1' autoport='yes'/></devices></domain>";
    const now = "<domain type='xen'><name>a</name><uuid>596a5d21-71f4-8fb2-e068-e2386a5c413e</uuid><memory>65536</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='xenfv'>hvm</type><loader type='rom' format='raw'>/usr/lib/xen/boot/hvmloader</loader></os><clock offset='variable' adjustment='0' basis='utc'/><devices><controller type='xenbus' index='0'/><input type='mouse' bus='ps2'/><input type='keyboard' bus='ps2'/><graphics type='vnc' port='-1' autoport='yes'><listen type='address'/></graphics><video><model type='cirrus' vram='16384' heads='1' primary='yes'/></video><memballoon model='xen'/></devices></domain>";
    expect(compareDomainXml(old, now)).toEqual([]);
    expect(compareDomainXml(old, now.replace('<vcpu>1</vcpu>', '<vcpu>2</vcpu>'))).toEqual([{ where: 'vcpus', expected: 1, actual: 2 }]);
    expect(compareDomainXml(old, now.replace("basis='utc'", "basis='localtime'"))).not.toEqual([]);
  });
});

describe('xend conformance runner', () => {
  it('counts per version and fails on a difference in meaning', () => {
    mkdirSync(join(dir, 'xml2sexprdata'));
    const xml = "<domain type='xen'><name>a</name><uuid>596a5d21-71f4-8fb2-e068-e2386a5c413e</uuid><memory>65536</memory><vcpu>1</vcpu><bootloader>/usr/bin/pygrub</bootloader><os><type>linux</type></os><devices></devices></domain>";
    writeFileSync(join(dir, 'xml2sexprdata', 'a.xml'), xml);
    writeFileSync(join(dir, 'xml2sexprdata', 'good.sexpr'), "(vm (uuid '596a5d21-71f4-8fb2-e068-e2386a5c413e')(name 'a')(memory 64)(maxmem 64)(vcpus 1)\\\n(bootloader '/usr/bin/pygrub')(on_poweroff 'destroy')(on_reboot 'restart')(on_crash 'destroy')(localtime 0))");
    writeFileSync(join(dir, 'xml2sexprdata', 'bad.sexpr'), "(vm (uuid '596a5d21-71f4-8fb2-e068-e2386a5c413e')(name 'a')(memory 64)(maxmem 64)(vcpus 2)(bootloader '/usr/bin/pygrub')(on_poweroff 'destroy')(on_reboot 'restart')(on_crash 'destroy')(localtime 0))");
    writeFileSync(
      join(dir, 'MANIFEST.tsv'),
      'dir\ttest\tdirection\tinput\texpected\tparams\tguard\n' +
        'xml2sexprdata\tgood\txml->sexpr\ta.xml\tgood.sexpr\txendConfigVersion=1\t\n' +
        'xml2sexprdata\tbad\txml->sexpr\ta.xml\tbad.sexpr\txendConfigVersion=3\t\n',
    );
    const r = run({ XENVIRT_CONFORMANCE_1_2_0_DIR: dir, CI: '' });
    expect(r.out).toContain('FAIL xml2sexprdata/bad/xml->sexpr/v3: missing: expected "vm/vcpus=2"');
    expect(r.out).toContain('xend config version 1: 1 passed, 0 failed');
    expect(r.out).toContain('xend config version 3: 0 passed, 1 failed');
    expect(r.out.trim().split('\n').pop()).toBe('conformance: 1 passed, 1 failed (libvirt 1.2.0, xend config versions 1-3)');
    expect(r.status).toBe(1);
  });

  it('skips with one line outside CI and fails under CI=true when fixtures are missing', () => {
    const off = run({ XENVIRT_CONFORMANCE_1_2_0_DIR: join(dir, 'missing'), CI: '' });
    expect(off.out.trim().split('\n')).toHaveLength(1);
    expect(off.out).toMatch(/skipped: fixtures not found/);
    expect(off.status).toBe(0);
    const ci = run({ XENVIRT_CONFORMANCE_1_2_0_DIR: join(dir, 'missing'), CI: 'true' });
    expect(ci.out).toMatch(/FAILED: fixtures not found/);
    expect(ci.status).toBe(1);
  });
});
