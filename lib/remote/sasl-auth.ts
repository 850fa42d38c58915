/**
 * libvirt's SASL authentication (AUTH_SASL_INIT, then _START and _STEP until complete) with
 * a SCRAM mechanism; the daemon must prove it knows the password verifier too.
 */
import { VirError, ErrorCode } from '../errors.js';
import type { CallOptions, RemoteClient } from './client.js';
import * as P from './protocol/remote.js';
import { ScramClient, type ScramHash } from './scram.js';

const FROM_REMOTE = 'VIR_FROM_REMOTE';

const SCRAM_MECHS: [string, ScramHash][] = [
  ['SCRAM-SHA-256', 'sha256'],
  ['SCRAM-SHA-1', 'sha1'],
];
const toChars = (text: string): number[] => [...Buffer.from(text, 'utf8')];
// rpcgen `char` arrays carry signed C chars: bytes above 0x7f may arrive negative.
const fromChars = (chars: number[]): string => Buffer.from(chars.map((c) => c & 0xff)).toString('utf8');

/** libvirt's SASL exchange (AUTH_SASL_INIT, _START, _STEP…) with a SCRAM mechanism. */
export async function saslAuthenticate(client: RemoteClient, describe: string, username: string | undefined, password: string | undefined, opts: CallOptions): Promise<void> {
  const fail = (message: string) => new VirError(`${describe}: ${message}`, { code: ErrorCode.AUTH_FAILED, domain: FROM_REMOTE });
  const { mechlist } = await client.call(P.REMOTE_PROC_AUTH_SASL_INIT, undefined, opts);
  const offered = mechlist.split(/[\s,]+/).filter(Boolean).map((m) => m.toUpperCase());
  const choice = SCRAM_MECHS.find(([name]) => offered.includes(name));
  if (!choice) throw fail(`the daemon offers SASL mechanisms ${offered.join(', ') || '(none)'}; this client speaks ${SCRAM_MECHS.map(([n]) => n).join(', ')}`);
  if (!password || !username) throw fail('SASL needs a username and password: connect(uri, { remote: { sasl: { username, password } } }) or user@ in the URI');
  const scram = new ScramClient(choice[1], username, password);
  const first = await client.call(P.REMOTE_PROC_AUTH_SASL_START, { mech: choice[0], nil: 0, data: toChars(scram.first()) }, opts);
  if (first.complete) throw fail('the daemon ended the SCRAM exchange after our first message');
  let step = await client.call(P.REMOTE_PROC_AUTH_SASL_STEP, { nil: 0, data: toChars(scram.final(fromChars(first.data))) }, opts);
  scram.verify(fromChars(step.data)); // the daemon must prove it knows the verifier before we trust it
  for (let rounds = 0; !step.complete; rounds++) {
    if (rounds > 2) throw fail('the daemon did not finish the SCRAM exchange');
    step = await client.call(P.REMOTE_PROC_AUTH_SASL_STEP, { nil: 0, data: [] }, opts);
  }
}
