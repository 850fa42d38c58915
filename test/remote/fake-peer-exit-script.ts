/**
 * Run as a child process by exit.test.ts: a burst of calls through the public API to a
 * FAKE peer that dies mid-burst, a connection closed with calls in flight, then nothing.
 * The process must exit on its own (no timer or socket left behind) with status 0; an
 * unhandled rejection makes it exit 3.
 */
import { connect } from '../../lib/index.js';
import { startFakePeer } from './fake-libvirt-peer.js';
import * as P from '../../lib/remote/protocol/remote.js';

process.on('unhandledRejection', (e) => {
  console.error('unhandled rejection:', e);
  process.exit(3);
});

const peer = await startFakePeer();
let calls = 0;
peer.onCall = (call) => {
  if (call.packet.proc !== P.REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME) return 'default';
  if (++calls === 500) call.socket.destroy(); // the daemon dies with 1,000 calls in flight
};
const conn = await connect(peer.uri);
const results = await Promise.allSettled(Array.from({ length: 1000 }, (_, i) => conn.lookupDomainByName(`d${i}`)));
const codes = new Set(results.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : 'fulfilled')));

const second = await connect(peer.uri);
peer.onCall = (call) => (call.packet.proc === P.REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME ? undefined : 'default'); // never answers
const inFlight = Array.from({ length: 100 }, (_, i) => second.lookupDomainByName(`d${i}`).catch((e: { code: string }) => e.code));
await new Promise((r) => setTimeout(r, 50));
await second.close();
const closedCodes = new Set(await Promise.all(inFlight));
await conn.close();
await peer.close();
console.log(JSON.stringify({ codes: [...codes], closedCodes: [...closedCodes] }));
