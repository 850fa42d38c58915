// The package as users get it: both module systems from one build, the explicit export
// list, the native addon really loaded, and a tarball holding only what users need.
import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { native } from '../../lib/native.js';

const root = resolve(__dirname, '../..');
const require = createRequire(import.meta.url);

const CORE_EXPORTS = ['connect', 'Connection', 'Domain', 'Network', 'VirError', 'ErrorCode', 'ErrorDomain', 'isVirError', 'registerDriver'];

describe('package entry points', () => {
  it('ESM and CommonJS builds export the same names, including the core API', async () => {
    const esm = await import(pathToFileURL(resolve(root, 'dist/index.js')).href);
    const cjs = require(resolve(root, 'dist/index.cjs'));
    expect(Object.keys(esm).sort()).toEqual(Object.keys(cjs).sort());
    for (const name of CORE_EXPORTS) expect(Object.keys(esm)).toContain(name);
  });

  it('the CommonJS build opens the test driver, and errors are VirErrors across builds', async () => {
    const cjs = require(resolve(root, 'dist/index.cjs'));
    const esm = await import(pathToFileURL(resolve(root, 'dist/index.js')).href);
    const conn = await cjs.connect('test:///default');
    try {
      const doms = await conn.listAllDomains();
      expect(doms.map((d: { name: string }) => d.name)).toEqual(['test']);
      const err = await conn.lookupDomainByName('missing').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(esm.VirError); // thrown by the CJS copy, checked with the ESM class
      expect(err.code).toBe('VIR_ERR_NO_DOMAIN');
    } finally {
      await conn.close();
    }
  });

  it('ships typings for both module systems', () => {
    const pkg = require(resolve(root, 'package.json'));
    expect(pkg.exports['.'].import.types).toBe('./dist/index.d.ts');
    expect(pkg.exports['.'].require.types).toBe('./dist/index.d.cts');
    const dts = execFileSync('ls', [resolve(root, 'dist')], { encoding: 'utf8' });
    expect(dts).toContain('index.d.ts');
    expect(dts).toContain('index.d.cts');
  });
});

describe('native addon', () => {
  it('is built and loaded for real, and knows the VirError class', () => {
    const n = native();
    const info = n.nativeInfo();
    expect(info.napiVersion).toBeGreaterThanOrEqual(8);
    expect(info.sysname).toBe('Linux');
  });
});

describe('npm pack', () => {
  it('ships only what a user needs', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
    const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.cjs');
    expect(files).toContain('bin/xenvirt.js');
    expect(files).toContain('binding.gyp');
    expect(files).toContain('native/addon.cc');
    const allowed = /^(dist\/|bin\/|native\/[^/]+\.(cc|h)$|prebuilds\/|binding\.gyp$|package\.json$|README\.md$|LICENSE$|systemd\/)/;
    const unexpected = files.filter((f) => !allowed.test(f));
    expect(unexpected).toEqual([]);
    expect(files.some((f) => f.startsWith('test/') || f.startsWith('lib/') || f.endsWith('.test.ts'))).toBe(false);
  });
});
