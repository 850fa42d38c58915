/** The package version, read from package.json at run time (one source of truth). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { packageRoot } from '../native.js';

export const LIBRARY_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(resolve(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();
