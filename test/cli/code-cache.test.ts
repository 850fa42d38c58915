/**
 * The V8 code cache the CLI compiles its bundle with (lib/cli/code-cache.ts), on small
 * CommonJS files: used when it fits, and otherwise ignored and written again — a changed
 * bundle (even one of the same length with its mtime set back), damaged data, another
 * user's or a world-writable file — and never in the way of running the file.
 *
 * Each load runs in a fresh node process, as each CLI command does: within one process V8
 * finds a source it compiled before in its own compilation cache and never looks at the
 * data it is given, which would hide a refused cache.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cacheFileName, codeCacheDir, loadWithCodeCache } from '../../lib/cli/code-cache.js';

const codeCacheModule = pathToFileURL(resolve(__dirname, '../../lib/cli/code-cache.ts')).href;

let dir: string;
let cacheDir: string;
let bundle: string;
/** The one cache file (its name carries the node options of the loading process: --import tsx). */
const cacheFile = () => {
  const files = readdirSync(cacheDir).filter((f) => f.endsWith('.v8cache'));
  expect(files).toHaveLength(1);
  return join(cacheDir, files[0]!);
};

// A CommonJS file that uses what a bundle uses: require, module.exports, __filename, a function compiled on call.
const source = (answer: string) => `'use strict';
const { basename } = require('node:path');
module.exports = { answer: () => '${answer}', file: basename(__filename), isCjs: typeof module === 'object' };
`;

/** Load the bundle in a new node process, call it, save the cache; what happened. */
function load(): { status: string; answer: string; exp: { file: string; isCjs: boolean } } {
  const script = `
    const { loadWithCodeCache } = await import(${JSON.stringify(codeCacheModule)});
    const l = loadWithCodeCache(process.argv[1], process.argv[2]);
    const answer = l.exports.answer();
    l.save();
    console.log(JSON.stringify({ status: l.status, answer, exp: { file: l.exports.file, isCjs: l.exports.isCjs } }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, bundle, cacheDir], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`load failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xenvirt-code-cache-'));
  cacheDir = join(dir, 'cache');
  bundle = join(dir, 'bundle.cjs');
  writeFileSync(bundle, source('first'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('code cache', () => {
  it('is written after the first run (owner-only) and used by the next, which runs the same code', () => {
    const first = load();
    expect(first).toMatchObject({ status: 'missing', answer: 'first', exp: { file: 'bundle.cjs', isCjs: true } });
    expect(statSync(cacheFile()).mode & 0o777).toBe(0o600);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const written = statSync(cacheFile()).mtimeMs;
    expect(load()).toMatchObject({ status: 'hit', answer: 'first' });
    expect(statSync(cacheFile()).mtimeMs).toBe(written); // a hit does not rewrite it
  });

  it('is ignored for a changed bundle of the same length, even with its mtime set back, and written again', () => {
    load();
    const before = statSync(bundle);
    writeFileSync(bundle, source('other')); // same length as 'first'
    utimesSync(bundle, before.atime, before.mtime);
    expect(statSync(bundle).size).toBe(before.size);
    expect(load()).toMatchObject({ status: 'stale', answer: 'other' });
    expect(load()).toMatchObject({ status: 'hit', answer: 'other' });
  });

  it('is ignored when V8 refuses its data (damaged after a valid header), and written again', () => {
    load();
    const file = readFileSync(cacheFile());
    const headerEnd = file.indexOf(0x0a) + 1;
    const damaged = Buffer.concat([file.subarray(0, headerEnd), Buffer.alloc(file.length - headerEnd, 0x5a)]);
    writeFileSync(cacheFile(), damaged, { mode: 0o600 });
    expect(load()).toMatchObject({ status: 'rejected', answer: 'first' });
    expect(readFileSync(cacheFile()).equals(damaged)).toBe(false);
    expect(load().status).toBe('hit');
  });

  it('is neither used nor replaced when others may write it', () => {
    load();
    chmodSync(cacheFile(), 0o666);
    const before = readFileSync(cacheFile());
    expect(load()).toMatchObject({ status: 'unsafe', answer: 'first' });
    expect(readFileSync(cacheFile()).equals(before)).toBe(true);
  });

  it('is ignored when it holds only a header or is empty', () => {
    load();
    writeFileSync(cacheFile(), '', { mode: 0o600 });
    expect(load()).toMatchObject({ status: 'stale', answer: 'first' });
    expect(load().status).toBe('hit');
  });

  it('is off without a cache directory, and the file still runs', () => {
    const l = loadWithCodeCache(bundle, undefined);
    expect(l.status).toBe('off');
    expect((l.exports as { answer(): string }).answer()).toBe('first');
    l.save();
    expect(existsSync(cacheDir)).toBe(false);
  });

  it('lives in $XENVIRT_CODE_CACHE_DIR, else $XDG_CACHE_HOME/xenvirt, else ~/.cache/xenvirt; XENVIRT_CODE_CACHE=0 turns it off', () => {
    expect(codeCacheDir({ XENVIRT_CODE_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/c');
    expect(codeCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/xenvirt');
    expect(codeCacheDir({ HOME: '/h' })).toBe('/h/.cache/xenvirt');
    expect(codeCacheDir({})).toBeUndefined();
    expect(codeCacheDir({ XENVIRT_CODE_CACHE: '0', XENVIRT_CODE_CACHE_DIR: '/c' })).toBeUndefined();
  });

  it('runs a bundle with non-ASCII text (decoded as UTF-8; an ASCII one is read as one-byte text)', () => {
    // the TypeScript escapes below put the characters themselves in the file (UTF-8)
    writeFileSync(bundle, `module.exports = { answer: () => 'd\u00e9j\u00e0 \u2026 \u{1F600}', file: 'x', isCjs: true };\n`);
    expect(load().answer).toBe('d\u00e9j\u00e0 \u2026 \u{1F600}');
    expect(load()).toMatchObject({ status: 'hit', answer: 'd\u00e9j\u00e0 \u2026 \u{1F600}' });
  });

  it('keeps one file per set of node options, so processes with other V8 flags do not rewrite each other\'s', () => {
    expect(cacheFileName('/d/cli.cjs', [], undefined)).toBe('cli.cjs.v8cache');
    expect(cacheFileName('/d/cli.cjs', [], '')).toBe('cli.cjs.v8cache');
    const jitless = cacheFileName('/d/cli.cjs', ['--jitless'], undefined);
    expect(jitless).toMatch(/^cli\.cjs\.[0-9a-f]{8}\.v8cache$/);
    expect(cacheFileName('/d/cli.cjs', [], '--jitless')).not.toBe(jitless); // NODE_OPTIONS counts too, apart
    expect(cacheFileName('/d/cli.cjs', ['--jitless'], undefined)).toBe(jitless);
    expect(cacheFileName('/d/cli.cjs', ['--max-old-space-size=64'], undefined)).not.toBe(jitless);
  });

  it('a missing bundle is an error, not a silent fallback', () => {
    expect(() => loadWithCodeCache(join(dir, 'nothing.cjs'), cacheDir)).toThrow(/ENOENT/);
  });
});
