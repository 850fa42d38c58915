/**
 * Replace a file so readers see the old or the new content, never half: temp file in
 * the same directory, fsync, rename over, fsync the directory. The temp name is short
 * and fixed-length (a name may be up to 255 bytes, so "<name>.tmp" could be too long)
 * and starts with a dot, so a config-dir scan never mistakes it for a domain.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.xenvirt-${randomBytes(8).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  let closed = false;
  try {
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    closed = true;
    await rename(tmp, path);
  } catch (e) {
    if (!closed) await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  // Make the rename itself durable.
  const dh = await open(dir, 'r').catch(() => undefined);
  if (dh) {
    await dh.sync().catch(() => {});
    await dh.close();
  }
}
