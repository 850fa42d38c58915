/**
 * Load a CommonJS bundle through a V8 code cache: what V8 compiled in an earlier run is
 * deserialized instead of parsing the whole file again. Compiling dist/cli.cjs (~800 kB)
 * is the largest cost a CLI process adds to node's own start-up (issue 15).
 *
 * The cache is never trusted blindly. Its header names the bundle it was made from by
 * identity — device, inode, size, and mtime and ctime in nanoseconds, as git's index
 * tells a changed file (ctime cannot be set back by anyone) — and the node version and
 * architecture; V8 then checks its own version and flags and rejects what does not fit.
 * A content hash would cost more than it saves here: hashing needs node:zlib (crc32,
 * ~2 ms to load) or node:crypto (~4 ms). The file must belong to this user and be
 * writable by no one else. Any mismatch means a normal compile, and the cache is written
 * again (atomically: a temporary file renamed over it) once the command has run, so it
 * holds the functions the command needed.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { isAscii } from 'node:buffer';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

export type CodeCacheStatus =
  /** The cache was used. */
  | 'hit'
  /** No cache file yet. */
  | 'missing'
  /** Made from another bundle or node: ignored, written again. */
  | 'stale'
  /** Our header matched but V8 refused the data (other V8 flags, damaged file): written again. */
  | 'rejected'
  /** Not owned by this user or writable by others: ignored and left alone. */
  | 'unsafe'
  /** No cache directory (caching off). */
  | 'off';

export interface CachedLoad {
  exports: unknown;
  status: CodeCacheStatus;
  /**
   * Write the cache if it needs it (not after a hit, nor over an unsafe file). Call it
   * when the work is done, so the data includes the functions compiled along the way.
   * Failures are ignored: the cache only saves time.
   */
  save(): void;
}

const MAGIC = 'xenvirt-code-cache 1';

/** The cache directory: $XENVIRT_CODE_CACHE_DIR, else $XDG_CACHE_HOME/xenvirt or ~/.cache/xenvirt; off when XENVIRT_CODE_CACHE=0. */
export function codeCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.XENVIRT_CODE_CACHE === '0') return undefined;
  if (env.XENVIRT_CODE_CACHE_DIR) return env.XENVIRT_CODE_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, '.cache') : undefined);
  return base ? join(base, 'xenvirt') : undefined;
}

/** The header a cache for this bundle, read with this fd, must carry. */
function headerFor(fd: number): string {
  const s = fstatSync(fd, { bigint: true });
  return `${MAGIC} node ${process.version} ${process.arch} bundle ${s.dev}:${s.ino} ${s.size} ${s.mtimeNs} ${s.ctimeNs}\n`;
}

/**
 * Read the bundle and its identity from one open file, so both describe the same file.
 * An ASCII file (the build makes dist/cli.cjs one) becomes a one-byte string without UTF-8
 * decoding; anything else is decoded as UTF-8.
 */
function readBundle(file: string): { source: string; header: string } {
  const fd = openSync(file, 'r');
  try {
    const header = headerFor(fd);
    const bytes = readFileSync(fd);
    return { header, source: isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8') };
  } finally {
    closeSync(fd);
  }
}

type CacheRead = { kind: 'data'; data: Buffer } | { kind: 'missing' | 'stale' | 'unsafe' };

function readCache(path: string, header: string): CacheRead {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { kind: 'missing' };
  }
  try {
    const s = fstatSync(fd);
    const uid = process.getuid?.();
    if (!s.isFile() || (uid !== undefined && s.uid !== uid) || (s.mode & 0o022) !== 0) return { kind: 'unsafe' };
    const all = readFileSync(fd);
    const head = Buffer.from(header);
    if (all.length <= head.length || !all.subarray(0, head.length).equals(head)) return { kind: 'stale' };
    return { kind: 'data', data: all.subarray(head.length) };
  } finally {
    closeSync(fd);
  }
}

function writeCache(path: string, header: string, data: Buffer): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(header), data]), { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      /* never written */
    }
  }
}

/**
 * The cache file for a bundle: one per set of node options, as V8 refuses data made under
 * other flags (--jitless, --max-old-space-size, …): processes that alternate between two
 * sets would otherwise throw away and rewrite each other's cache every time.
 */
export function cacheFileName(file: string, execArgv: readonly string[], nodeOptions: string | undefined): string {
  const base = file.split('/').pop()!;
  const flags = [...execArgv, nodeOptions ?? ''].join('\0');
  if (flags === '\0' || flags === '') return `${base}.v8cache`;
  let h = 0x811c9dc5; // FNV-1a, 32 bits: a name, not a check (the header and V8 check)
  for (let i = 0; i < flags.length; i++) h = Math.imul(h ^ flags.charCodeAt(i), 0x01000193) >>> 0;
  return `${base}.${h.toString(16).padStart(8, '0')}.v8cache`;
}

/**
 * Run a CommonJS file as `require(file)` would, compiled with the code cache in
 * `cacheDir` (none: compiled as usual), in the file cacheFileName() names.
 */
export function loadWithCodeCache(file: string, cacheDir: string | undefined): CachedLoad {
  const { source, header } = readBundle(file);
  const cachePath = cacheDir === undefined ? undefined : join(cacheDir, cacheFileName(file, process.execArgv, process.env.NODE_OPTIONS));
  const cache: CacheRead = cachePath === undefined ? { kind: 'missing' } : readCache(cachePath, header);
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    ...(cache.kind === 'data' ? { cachedData: cache.data } : {}),
    // No importModuleDynamically: the bundle must not use import() (the build turns it into
    // require()); node 20 would not find the loader for a script read from the cache.
  });
  let status: CodeCacheStatus;
  if (cachePath === undefined) status = 'off';
  else if (cache.kind === 'data') status = script.cachedDataRejected ? 'rejected' : 'hit';
  else status = cache.kind;

  const mod = new Module(file);
  mod.filename = file;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(file));
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  mod.loaded = true;

  return {
    exports: mod.exports,
    status,
    save() {
      if (cachePath === undefined || status === 'hit' || status === 'unsafe') return;
      // Only if the bundle is still the one that ran (a rebuild meanwhile would mislabel the data).
      try {
        const fd = openSync(file, 'r');
        try {
          if (headerFor(fd) !== header) return;
        } finally {
          closeSync(fd);
        }
        writeCache(cachePath, header, script.createCachedData());
      } catch {
        /* the cache only saves time */
      }
    },
  };
}
