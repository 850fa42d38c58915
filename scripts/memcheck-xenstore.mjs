// Workload for scripts/memcheck-xenstore.sh (run under valgrind): 100k XenStore
// operations of every kind plus repeated open/close (with calls in flight, and with
// the peer sending garbage), so that leaks or bad accesses in the addon show up.
import { createServer } from 'node:net';
import { XenStore } from '../dist/index.js';

const socket = process.argv[2];
const OPS = Number(process.argv[3] ?? 100_000);
const CYCLES = Number(process.argv[4] ?? 200);
let ops = 0;

const xs = await XenStore.open({ path: socket });
await xs.write('/mc/key', 'value');
const w = xs.watch('/mc/watched');
let events = 0;
w.on('change', () => events++);
await w.ready;
for (let i = 0; i < 20; i++) await xs.write(`/mc/dir/c${String(i).padStart(4, '0')}`, '');
await xs.transaction((tx) => Promise.all(Array.from({ length: 1000 }, (_, i) => tx.write(`/mc/bigdir/child-${String(i).padStart(5, '0')}`, ''))));
while (ops < OPS) {
  const batch = [];
  for (let i = 0; i < 100; i++) batch.push(xs.read('/mc/key'));
  batch.push(xs.write('/mc/watched/x', String(ops)));
  batch.push(xs.readBuffer('/mc/key'));
  batch.push(xs.directory('/mc/dir'));
  batch.push(xs.getPerms('/mc/key'));
  batch.push(xs.read('/mc/missing').catch(() => undefined));
  batch.push(xs.getDomainPath(1));
  await Promise.all(batch);
  ops += batch.length;
  if (ops % 5000 < batch.length) {
    if ((await xs.directory('/mc/bigdir')).length < 1000) throw new Error('bad big directory');
    await xs.write(`/mc/bigdir/child-${String(ops % 1000).padStart(5, '0')}x`, ''); // changes the listing
    await xs.transaction(async (tx) => {
      await tx.write('/mc/tx/a', String(ops));
      await tx.read('/mc/tx/a');
    });
    ops += 4;
  }
}
await w.close();
await xs.close();

// Open/close cycles, half of them closed with requests still in flight.
for (let i = 0; i < CYCLES; i++) {
  const c = await XenStore.open({ path: socket });
  const inflight = [c.read('/mc/key'), c.directory('/mc'), c.read('/mc/missing')].map((p) => p.catch(() => undefined));
  if (i % 2 === 0) await Promise.all(inflight);
  await c.close();
  await Promise.all(inflight);
}

// A peer that answers with garbage: the connection fails and is released.
const garbage = createServer((s) => s.on('data', () => s.end(Buffer.alloc(64, 0xff))));
const gpath = `${socket}.garbage`;
await new Promise((r) => garbage.listen(gpath, r));
for (let i = 0; i < 50; i++) {
  const c = await XenStore.open({ path: gpath });
  await c.read('/x').catch(() => undefined);
  await c.close();
}
garbage.close();

// A peer with replies far over 4096 bytes (as oxenstored sends): the read buffer grows
// and shrinks back.
const bigReply = Buffer.alloc(300_000, 0x61);
const big = createServer((s) =>
  s.on('data', (d) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(d.readUInt32LE(0), 0);
    h.writeUInt32LE(d.readUInt32LE(4), 4);
    h.writeUInt32LE(bigReply.length, 12);
    s.write(Buffer.concat([h, bigReply]));
  }),
);
const bpath = `${socket}.big`;
await new Promise((r) => big.listen(bpath, r));
for (let i = 0; i < 20; i++) {
  const c = await XenStore.open({ path: bpath });
  if ((await c.read('/x')).length !== bigReply.length) throw new Error('short big reply');
  await c.close();
}
big.close();
console.log(`memcheck workload: ${ops} operations, ${events} watch events, ${CYCLES} open/close cycles, 50 garbage peers, 20 300-KB replies`);
