// The CLI end to end, spawned as a user would run it (node bin/xenvirt.js → dist/cli.cjs;
// `npm test` builds dist/ first).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const bin = join(root, 'bin', 'xenvirt.js');

function xenvirt(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    // the V8 code cache of the CLI bundle goes to this run's directory, not ~/.cache
    env: { ...process.env, XENVIRT_DEFAULT_URI: '', XENVIRT_CODE_CACHE_DIR: join(dir, 'code-cache'), ...env },
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'cli.cjs'))) throw new Error('dist/cli.cjs is missing: run `npm run build:ts` (npm test does)');
  dir = mkdtempSync(join(tmpdir(), 'xenvirt-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('xenvirt CLI', () => {
  it('lists the test domain by default (test:///default)', () => {
    const r = xenvirt(['list', '--all']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ Id\s+Name\s+State\n-+\n 1\s+test\s+running\n$/);
  });

  it('prints JSON with --json', () => {
    const r = xenvirt(['-c', 'test:///default', 'list', '--json']);
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout);
    expect(rows).toEqual([{ id: 1, name: 'test', uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', state: 'running' }]);
  });

  it('shows domain info by name, id and uuid', () => {
    for (const ident of ['test', '1', '6695eb01-f6a4-8304-79aa-97f2502e193f']) {
      const r = xenvirt(['dominfo', ident]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^Id:\s+1$/m);
      expect(r.stdout).toMatch(/^State:\s+running$/m);
      expect(r.stdout).toMatch(/^Max memory:\s+8388608 KiB$/m);
    }
  });

  it('dumps XML, node info, capabilities, version, uri and hostname', () => {
    expect(xenvirt(['dumpxml', 'test']).stdout).toMatch(/^<domain type='test' id='1'>\n[\s\S]*<\/domain>\n$/);
    expect(xenvirt(['nodeinfo']).stdout).toMatch(/^CPU\(s\):\s+16$/m);
    expect(xenvirt(['capabilities']).stdout).toMatch(/^<capabilities>/);
    expect(xenvirt(['version']).stdout).toMatch(/Running hypervisor: Test 0\.0\.2/);
    expect(xenvirt(['uri']).stdout).toBe('test:///default\n');
    expect(xenvirt(['hostname']).stdout.trim().length).toBeGreaterThan(0);
  });

  it('runs lifecycle commands against the connection', () => {
    // Each invocation is its own connection to a fresh test:///default host.
    const resume = xenvirt(['resume', 'test']);
    expect(resume.status).toBe(1);
    expect(resume.stderr).toMatch(/is not paused \(VIR_ERR_OPERATION_INVALID\)/);
    for (const [cmd, re] of [
      ['suspend', /suspended/],
      ['reboot', /rebooted/],
      ['shutdown', /shutdown/],
      ['destroy', /destroyed/],
    ] as const) {
      const r = xenvirt([cmd, 'test']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(re);
    }
    expect(xenvirt(['setmem', 'test', '1048576']).status).toBe(0);
    expect(xenvirt(['setmaxmem', 'test', '2097152']).status).toBe(0);
    expect(xenvirt(['setvcpus', 'test', '3']).status).toBe(0);
    expect(xenvirt(['vcpupin', 'test', '0', '1,3-4']).status).toBe(0);
    expect(xenvirt(['vcpuinfo', 'test']).stdout).toMatch(/^VCPU:\s+0$/m);
    expect(xenvirt(['autostart', 'test']).stdout).toMatch(/marked as autostarted/);
  });

  it('defines from a file and reads networks', () => {
    const f = join(dir, 'g.xml');
    writeFileSync(f, `<domain type='test'><name>fromcli</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`);
    const r = xenvirt(['define', f]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Domain 'fromcli' defined from ${f}\n`);
    expect(xenvirt(['create', f]).stdout).toMatch(/Domain 'fromcli' created/);
    expect(xenvirt(['net-list']).stdout).toMatch(/ default\s+active\s+no/);
    expect(xenvirt(['net-info', 'default']).stdout).toMatch(/^Bridge:\s+virbr0$/m);
    expect(xenvirt(['net-dumpxml', 'default']).stdout).toMatch(/^<network>/);
    expect(xenvirt(['net-destroy', 'default']).stdout).toBe('Network default destroyed\n');
    const nf = join(dir, 'n.xml');
    writeFileSync(nf, `<network><name>lab</name></network>`);
    expect(xenvirt(['net-define', nf]).stdout).toBe(`Network lab defined from ${nf}\n`);
  });

  it('saves to a file', () => {
    const f = join(dir, 'test.save');
    expect(xenvirt(['save', 'test', f]).status).toBe(0);
    expect(existsSync(f)).toBe(true);
    expect(xenvirt(['restore', join(dir, 'missing.save')]).stderr).toMatch(/^error: cannot read save image .*\(VIR_ERR_READ_FAILED\)\n$/);
  });

  it('reports errors as one line with the code, and exit status 1', () => {
    const cases: [string[], RegExp][] = [
      [['dominfo', 'nosuch'], /^error: Domain not found: no domain with matching name 'nosuch' \(VIR_ERR_NO_DOMAIN\)\n$/],
      [['frobnicate'], /^error: unknown command 'frobnicate' .*\(VIR_ERR_INVALID_ARG\)\n$/],
      [['dominfo'], /^error: command 'dominfo' takes 1 argument .*\(VIR_ERR_INVALID_ARG\)\n$/],
      [['-c', 'nosuch:///', 'list'], /\(VIR_ERR_NO_CONNECT\)\n$/],
      [['-r', 'suspend', 'test'], /\(VIR_ERR_OPERATION_DENIED\)\n$/],
      [['define', join(dir, 'absent.xml')], /^error: cannot read .*\(VIR_ERR_READ_FAILED\)\n$/],
      [['list', '--bogus'], /has no option '--bogus'/],
      [['vcpupin', 'test', '0', 'x-y'], /malformed CPU list/],
      // The test driver has no core dumps: the connection says so instead of crashing.
      [['dump', 'test', join(dir, 'core')], /\(VIR_ERR_NO_SUPPORT\)\n$/],
    ];
    for (const [args, re] of cases) {
      const r = xenvirt(args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(re);
    }
  });

  it('reports errors as JSON with --json', () => {
    const r = xenvirt(['--json', 'dominfo', 'nosuch']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'VIR_ERR_NO_DOMAIN' } });
  });

  it('takes the default URI from XENVIRT_DEFAULT_URI', () => {
    const f = join(dir, 'node.xml');
    writeFileSync(f, `<node><domain type='test'><name>envdom</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain></node>`);
    const r = xenvirt(['list'], { XENVIRT_DEFAULT_URI: `test://${f}` });
    expect(r.stdout).toMatch(/envdom\s+running/);
  });

  it('prints help listing every command', () => {
    const r = xenvirt(['help']);
    expect(r.status).toBe(0);
    for (const c of ['list', 'dominfo', 'domxml-from-native', 'net-undefine', 'vcpupin']) expect(r.stdout).toContain(`  ${c}`);
  });
});
