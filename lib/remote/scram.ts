/**
 * SCRAM client (RFC 5802; SHA-256 per RFC 7677), the SASL mechanism the remote driver speaks:
 * the password never crosses the wire, and the server proves it knows the verifier too.
 * No channel binding (gs2 header "n,,"), no authorization identity.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { VirError, ErrorCode } from '../errors.js';

export type ScramHash = 'sha256' | 'sha1';
const GS2_HEADER = 'n,,';

function authFailed(message: string): VirError {
  return new VirError(`SASL SCRAM: ${message}`, { code: ErrorCode.AUTH_FAILED, domain: 'VIR_FROM_REMOTE' });
}
/** RFC 5802 saslname: '=' and ',' escaped. */
function saslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}
function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) throw authFailed(`malformed server message '${message}'`);
    out.set(part[0]!, part.slice(2));
  }
  return out;
}

export class ScramClient {
  readonly #hash: ScramHash;
  readonly #password: string;
  readonly #clientNonce: string;
  readonly #firstBare: string;
  #serverSignature: Buffer | undefined;

  constructor(hash: ScramHash, username: string, password: string, clientNonce = randomBytes(18).toString('base64')) {
    this.#hash = hash;
    this.#password = password;
    this.#clientNonce = clientNonce;
    this.#firstBare = `n=${saslName(username)},r=${clientNonce}`;
  }

  /** client-first-message. */
  first(): string {
    return GS2_HEADER + this.#firstBare;
  }

  /** client-final-message for the server-first-message. */
  final(serverFirst: string): string {
    const a = attributes(serverFirst);
    if (a.has('m')) throw authFailed('the server requires an extension this client does not know');
    const nonce = a.get('r');
    const salt = a.get('s');
    const iterations = Number(a.get('i'));
    if (!nonce || !nonce.startsWith(this.#clientNonce) || nonce.length === this.#clientNonce.length) throw authFailed('the server nonce does not extend ours');
    if (!salt || !Number.isInteger(iterations) || iterations < 1) throw authFailed(`bad salt or iteration count in '${serverFirst}'`);
    const hmac = (key: Buffer, text: string) => createHmac(this.#hash, key).update(text).digest();
    const keyLength = this.#hash === 'sha256' ? 32 : 20;
    const salted = pbkdf2Sync(Buffer.from(this.#password, 'utf8'), Buffer.from(salt, 'base64'), iterations, keyLength, this.#hash);
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash(this.#hash).update(clientKey).digest();
    const withoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${nonce}`;
    const authMessage = `${this.#firstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    this.#serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Check the server-final-message: the server must prove it holds the same verifier. */
  verify(serverFinal: string): void {
    const a = attributes(serverFinal);
    if (a.has('e')) throw authFailed(`the server refused: ${a.get('e')}`);
    const v = a.get('v');
    if (!this.#serverSignature || v === undefined) throw authFailed('no server signature');
    const got = Buffer.from(v, 'base64');
    if (got.length !== this.#serverSignature.length || !timingSafeEqual(got, this.#serverSignature)) {
      throw authFailed('the server signature is wrong: it does not know the password verifier');
    }
  }
}
