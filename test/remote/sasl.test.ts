/**
 * libvirt's SASL exchange (AUTH_SASL_INIT/START/STEP) with SCRAM-SHA-256 against a FAKE,
 * scripted peer, for what a real daemon will not do on demand: a server that cannot prove it
 * knows the verifier, and the exact order of the calls. The real daemon is in
 * sasl.e2e.test.ts; the SCRAM arithmetic is checked against the RFC examples in
 * scram.test.ts, and the server side below is written from RFC 5802 independently of
 * lib/remote/scram.ts.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakePeer, type FakePeer } from './fake-libvirt-peer.js';
import { XdrReader } from '../../lib/remote/xdr.js';
import * as P from '../../lib/remote/protocol/remote.js';
import { connect, VirError } from '../../lib/index.js';

const USER = 'alice';
const PASSWORD = 'wonderland';
const SALT = randomBytes(16);
const ITERATIONS = 4096;

/** The daemon's side of SCRAM-SHA-256 for one connection. */
function scramServer(opts: { lieAboutSignature?: boolean } = {}) {
  const salted = pbkdf2Sync(PASSWORD, SALT, ITERATIONS, 32, 'sha256');
  const hmac = (k: Buffer, t: string) => createHmac('sha256', k).update(t).digest();
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  let firstBare = '';
  let serverFirst = '';
  return {
    start(clientFirst: string): string {
      expect(clientFirst.startsWith('n,,')).toBe(true);
      firstBare = clientFirst.slice(3);
      const user = /n=([^,]*)/.exec(firstBare)![1];
      if (user !== USER) throw new Error('unknown user');
      const nonce = /r=([^,]*)/.exec(firstBare)![1]! + randomBytes(9).toString('base64');
      serverFirst = `r=${nonce},s=${SALT.toString('base64')},i=${ITERATIONS}`;
      return serverFirst;
    },
    step(clientFinal: string): string | null {
      const withoutProof = clientFinal.slice(0, clientFinal.indexOf(',p='));
      const proof = Buffer.from(clientFinal.slice(clientFinal.indexOf(',p=') + 3), 'base64');
      const authMessage = `${firstBare},${serverFirst},${withoutProof}`;
      const signature = hmac(storedKey, authMessage);
      const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
      if (!createHash('sha256').update(clientKey).digest().equals(storedKey)) return null;
      const serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
      if (opts.lieAboutSignature) serverSignature[0]! ^= 1;
      return `v=${serverSignature.toString('base64')}`;
    },
  };
}

const text = (chars: number[]) => Buffer.from(chars.map((c) => c & 0xff)).toString();
const chars = (s: string) => [...Buffer.from(s)];

let peer: FakePeer;
beforeEach(async () => {
  peer = await startFakePeer();
});
afterEach(() => peer.close());

function playSasl(server: ReturnType<typeof scramServer>, log: string[]) {
  let authenticated = false;
  peer.onCall = (call) => {
    const r = new XdrReader(call.packet.body);
    switch (call.packet.proc) {
      case P.REMOTE_PROC_AUTH_LIST:
        return call.reply((w) => P.write_remote_auth_list_ret(w, { types: [P.REMOTE_AUTH_SASL] }));
      case P.REMOTE_PROC_AUTH_SASL_INIT:
        log.push('init');
        return call.reply((w) => P.write_remote_auth_sasl_init_ret(w, { mechlist: 'DIGEST-MD5,SCRAM-SHA-1,SCRAM-SHA-256' }));
      case P.REMOTE_PROC_AUTH_SASL_START: {
        const args = P.read_remote_auth_sasl_start_args(r);
        log.push(`start ${args.mech}`);
        const out = server.start(text(args.data));
        return call.reply((w) => P.write_remote_auth_sasl_start_ret(w, { complete: 0, nil: 0, data: chars(out) }));
      }
      case P.REMOTE_PROC_AUTH_SASL_STEP: {
        log.push('step');
        const out = server.step(text(P.read_remote_auth_sasl_step_args(r).data));
        if (out === null) return call.fail(45, 7, 'authentication failed: SASL(-13): user not found'); // VIR_ERR_AUTH_FAILED, VIR_FROM_RPC
        authenticated = true;
        return call.reply((w) => P.write_remote_auth_sasl_step_ret(w, { complete: 1, nil: 0, data: chars(out) }));
      }
      case P.REMOTE_PROC_CONNECT_OPEN:
        log.push(authenticated ? 'open' : 'open refused');
        if (!authenticated) return call.fail(45, 7, 'authentication required');
        return call.reply();
      default:
        return 'default';
    }
  };
}

describe('SASL SCRAM-SHA-256 exchange', () => {
  it('authenticates with the password, then opens', async () => {
    const log: string[] = [];
    playSasl(scramServer(), log);
    const conn = await connect(peer.uri, { remote: { sasl: { username: USER, password: PASSWORD } } });
    expect(conn.getType()).toBe('FAKE');
    expect(log).toEqual(['open refused', 'init', 'start SCRAM-SHA-256', 'step', 'open']);
    await conn.close();
  });

  it("reports the daemon's refusal of a wrong password as VIR_ERR_AUTH_FAILED", async () => {
    playSasl(scramServer(), []);
    const e = await connect(peer.uri, { remote: { sasl: { username: USER, password: 'wrong' } } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(VirError);
    expect((e as VirError).code).toBe('VIR_ERR_AUTH_FAILED');
    expect((e as VirError).message).toMatch(/SASL\(-13\)/);
  });

  it('refuses a daemon that cannot prove it knows the verifier', async () => {
    playSasl(scramServer({ lieAboutSignature: true }), []);
    const e = await connect(peer.uri, { remote: { sasl: { username: USER, password: PASSWORD } } }).catch((x: unknown) => x);
    expect((e as VirError).code).toBe('VIR_ERR_AUTH_FAILED');
    expect((e as VirError).message).toMatch(/signature is wrong/);
  });
});
