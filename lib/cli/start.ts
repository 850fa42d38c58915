/**
 * What bin/xenvirt.js runs: the CLI bundle (dist/cli.cjs) loaded through the V8 code cache
 * (./code-cache.ts), then its main(). Built on its own (dist/cli-start.cjs) and kept tiny:
 * it must not pull the library in, or the bundle would be compiled twice.
 *
 * XENVIRT_DEBUG_CODE_CACHE=1 prints what happened to the cache on stderr.
 */
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { codeCacheDir, loadWithCodeCache } from './code-cache.js';

export async function start(distDir: string): Promise<void> {
  const loaded = loadWithCodeCache(join(distDir, 'cli.cjs'), codeCacheDir(process.env));
  if (process.env.XENVIRT_DEBUG_CODE_CACHE === '1') writeSync(2, `xenvirt: code cache ${loaded.status}\n`);
  await (loaded.exports as { main(): Promise<void> }).main();
  loaded.save();
}
