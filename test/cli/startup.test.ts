/**
 * What a CLI process loads (issue 15: start like node). The built CLI is spawned with
 * test/cli/record-modules.cjs preloaded, which reports the node built-ins loaded beyond
 * node's own start-up and every non-built-in required. A command must not pull in what it
 * does not use (sockets, HTTP, crypto, streams, the ES module loader), nor resolve
 * packages at run time: the bundle is self-contained.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const bin = join(root, 'bin', 'xenvirt.js');
const recorder = join(__dirname, 'record-modules.cjs');

let dir: string;
beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'cli.cjs'))) throw new Error('dist/cli.cjs is missing: run `npm run build:ts` (npm test does)');
  dir = mkdtempSync(join(tmpdir(), 'xenvirt-startup-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Recorded {
  status: number | null;
  stdout: string;
  stderr: string;
  builtins: string[];
  required: { request: string; from: string }[];
}

let runs = 0;
function record(args: string[], env: Record<string, string> = {}): Recorded {
  const out = join(dir, `modules-${++runs}.json`);
  const r = spawnSync(process.execPath, ['-r', recorder, bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, XENVIRT_DEFAULT_URI: '', XENVIRT_CODE_CACHE_DIR: join(dir, 'cache'), XENVIRT_RECORD_MODULES: out, ...env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ...JSON.parse(readFileSync(out, 'utf8')) };
}

/** Node modules no command's start-up should need; each costs milliseconds, far more under emulation. */
const NEVER_AT_START = ['net', 'http', 'https', 'tls', 'crypto', 'zlib', 'v8', 'stream', 'child_process', 'fs/promises', 'readline', 'internal/modules/esm/load'];

describe('CLI start-up', () => {
  it('`list` on test:/// loads none of them, and requires nothing but its launcher (no package resolution)', () => {
    const r = record(['-c', 'test:///default', 'list']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^ Id\s+Name\s+State\n-+\n 1\s+test\s+running\n$/);
    for (const m of NEVER_AT_START) expect(r.builtins).not.toContain(m);
    expect(r.required.map((x) => x.request)).toEqual(['../dist/cli-start.cjs']);
  });

  it('`help` loads none of them either', () => {
    const r = record(['help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: xenvirt/);
    for (const m of NEVER_AT_START) expect(r.builtins).not.toContain(m);
    expect(r.required.map((x) => x.request)).toEqual(['../dist/cli-start.cjs']);
  });

  it('a xen:/// open loads no socket, HTTP, crypto, stream or child_process module, and requires only the native addon (by path)', () => {
    // On a host without Xen the open fails (VIR_ERR_NO_XEN), after every sub-driver was asked.
    // fs/promises (and the readline it pulls in) is the one listed module the sub-drivers use at open.
    const r = record(['-c', 'xen:///', 'list', '--all']);
    expect(r.status === 0 || /\(VIR_ERR_NO_XEN\)/.test(r.stderr), r.stderr).toBe(true);
    for (const m of NEVER_AT_START.filter((x) => x !== 'fs/promises')) expect(r.builtins).not.toContain(m);
    // lib/native.ts requires the local build by its path: no node-gyp-build resolution per start.
    const outsideBundle = r.required.filter((x) => x.from.startsWith(join(root, 'dist')) || x.from === bin).map((x) => x.request);
    const addon = process.env.XENVIRT_NATIVE_PATH ?? join(root, 'build', 'Release', 'xenvirt.node');
    expect(outsideBundle.filter((q) => q !== '../dist/cli-start.cjs')).toEqual(existsSync(addon) ? [addon] : ['node-gyp-build']);
  });

  it('the bundle has no import() (it runs through vm.Script with a code cache, where import() has no loader) and is ASCII (read as one-byte text)', () => {
    const bytes = readFileSync(join(root, 'dist', 'cli.cjs'));
    expect(bytes.toString('latin1').match(/(^|[^\w.$])import\(/gm) ?? []).toEqual([]);
    expect(bytes.findIndex((b) => b > 0x7f)).toBe(-1);
  });

  it('writes the code cache on the first run and uses it on the next, with the same output', () => {
    const env = { XENVIRT_CODE_CACHE_DIR: join(dir, 'fresh-cache'), XENVIRT_DEBUG_CODE_CACHE: '1' };
    const first = record(['-c', 'test:///default', 'list', '--all'], env);
    const second = record(['-c', 'test:///default', 'list', '--all'], env);
    expect(first.stderr).toBe('xenvirt: code cache missing\n');
    expect(second.stderr).toBe('xenvirt: code cache hit\n');
    expect(second.stdout).toBe(first.stdout);
    expect(readdirSync(join(dir, 'fresh-cache')).filter((f) => /^cli\.cjs\..*v8cache$/.test(f))).toHaveLength(1);
  });
});
