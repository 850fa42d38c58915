/**
 * A unix-socket pass-through to a daemon's socket that a test can cut: `cut()` destroys every
 * connection through it and stops listening (the daemon "goes away" for its clients).
 */
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';

export async function cuttable(target: string, dir: string): Promise<{ path: string; cut(): Promise<void> }> {
  const path = join(dir, 'pass.sock');
  const socks: Socket[] = [];
  const server = createServer((client) => {
    const up = netConnect(target);
    socks.push(client, up);
    client.pipe(up);
    up.pipe(client);
    for (const s of [client, up]) s.on('error', () => { client.destroy(); up.destroy(); });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path,
    async cut() {
      for (const s of socks) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
