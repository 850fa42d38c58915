/**
 * The one place the native addon is loaded, and the declaration of its surface.
 *
 * Resolution order (as better-sqlite3 does): XENVIRT_NATIVE_PATH if set, then a
 * prebuild for this platform, then the local node-gyp build. The addon is loaded
 * lazily so that pure-TypeScript users (converters, test driver) never pay for it and
 * never fail because of it.
 */
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { VirError, ErrorCode, ErrorDomain } from './errors.js';

/** What every build of the addon exports. Modules add their own members (see below). */
export interface NativeCore {
  setErrorClass(ctor: typeof VirError): void;
  nativeInfo(): { napiVersion: number; addonVersion: string; sysname?: string; release?: string; machine?: string };
  [member: string]: unknown;
}

const require = createRequire(import.meta.url);

/** The package root: lib/ in development, dist/ once built — both one level below. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(resolve(dir, 'package.json')) && existsSync(resolve(dir, 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..');
}

let cached: NativeCore | undefined;
let loadError: unknown;

/** Load the addon (once). Throws a VirError when it cannot be loaded. */
export function native(): NativeCore {
  if (cached) return cached;
  if (loadError === undefined) {
    try {
      const explicit = process.env.XENVIRT_NATIVE_PATH;
      const mod: NativeCore = explicit
        ? require(explicit)
        : (require('node-gyp-build') as (dir: string) => NativeCore)(packageRoot());
      mod.setErrorClass(VirError);
      cached = mod;
      return mod;
    } catch (e) {
      loadError = e;
    }
  }
  throw new VirError(
    `the xenvirt native addon could not be loaded (${(loadError as Error)?.message ?? loadError}); ` +
      'reinstall the package or run `npm run build:native`',
    { code: ErrorCode.INTERNAL_ERROR, domain: ErrorDomain.NONE, cause: loadError },
  );
}
