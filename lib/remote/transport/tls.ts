/**
 * TLS to a daemon (libvirt's default for a URI with a host): x509 files from `?pkipath=` or
 * libvirt's default places, the server checked against the CA and the host name unless
 * `?no_verify=1`, then the daemon's one-byte verdict on our certificate and address.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isIP, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, createSecureContext, type SecureContext, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { ErrorCode, ErrorDomain, virError } from '../../errors.js';
import type { RemoteTarget } from '../uri.js';
import { boundedAttempt } from './attempt.js';
import { authError, systemError } from './errors.js';
import { hostPort, targetHost, targetPort } from './tcp.js';
import type { OpenTransportOptions, RemoteTransport } from './types.js';

export interface ClientPkiFiles {
  caCert: string;
  clientCert: string;
  clientKey: string;
  /** Where they were looked for (for messages). */
  from: 'pkipath' | 'user' | 'system';
}

const SYSTEM_PKI: Omit<ClientPkiFiles, 'from'> = {
  caCert: '/etc/pki/CA/cacert.pem',
  clientCert: '/etc/pki/libvirt/clientcert.pem',
  clientKey: '/etc/pki/libvirt/private/clientkey.pem',
};

function inDir(dir: string): Omit<ClientPkiFiles, 'from'> {
  return { caCert: join(dir, 'cacert.pem'), clientCert: join(dir, 'clientcert.pem'), clientKey: join(dir, 'clientkey.pem') };
}

/**
 * libvirt's places for the client's x509 files: all three in `?pkipath=`; else, when not
 * root, all three in ~/.pki/libvirt; else the system ones.
 */
export function locateClientPki(pkipath: string | undefined, context: { euid?: number; home?: string; exists?: (p: string) => boolean } = {}): ClientPkiFiles {
  const exists = context.exists ?? existsSync;
  if (pkipath !== undefined) return { ...inDir(pkipath), from: 'pkipath' };
  if ((context.euid ?? process.geteuid?.() ?? 0) > 0) {
    const user = inDir(join(context.home ?? homedir(), '.pki', 'libvirt'));
    if (exists(user.caCert) && exists(user.clientCert) && exists(user.clientKey)) return { ...user, from: 'user' };
  }
  return { ...SYSTEM_PKI, from: 'system' };
}

function readPem(path: string, what: string, optional: boolean): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (e) {
    if (optional) return undefined;
    throw virError(ErrorCode.SYSTEM_ERROR, ErrorDomain.RPC, `Cannot read ${what} '${path}': ${(e as Error).message}`, { cause: e });
  }
}

const contexts = new Map<string, { stamp: string; context: SecureContext }>();

/**
 * The x509 files as a TLS context, parsed once and reused while the files are unchanged
 * (reading and parsing the key pair is a good part of a connect's cost).
 */
function secureContextFor(pki: ClientPkiFiles, verify: boolean): SecureContext {
  const files = [pki.caCert, pki.clientCert, pki.clientKey];
  const stamp = files
    .map((f) => {
      try {
        const st = statSync(f);
        return `${st.mtimeMs}:${st.size}:${st.ino}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
  const cacheKey = `${verify}|${files.join('|')}`;
  const hit = contexts.get(cacheKey);
  if (hit?.stamp === stamp) return hit.context;
  // With no_verify the CA is only needed if present; the client pair is what the daemon checks.
  const ca = readPem(pki.caCert, 'CA certificate', !verify);
  const cert = readPem(pki.clientCert, 'client certificate', false);
  const key = readPem(pki.clientKey, 'client key', false);
  let context: SecureContext;
  try {
    context = createSecureContext(ca ? { ca, cert, key } : { cert, key });
  } catch (e) {
    throw virError(ErrorCode.SYSTEM_ERROR, ErrorDomain.RPC, `Cannot use the client certificate ${pki.clientCert} / key ${pki.clientKey} / CA ${pki.caCert}: ${(e as Error).message}`, { cause: e });
  }
  contexts.set(cacheKey, { stamp, context });
  return context;
}

/** The byte the daemon sends after the handshake: 1 when it accepts our certificate and address. */
const VERDICT_OK = 1;

/** A TLS failure as the caller should see it: whose certificate, or the network. */
function tlsFailure(describe: string, e: Error, pki: ClientPkiFiles, verify: boolean): Error {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  // An alert from the server: it refused our certificate (TLS 1.3 reports it after the handshake).
  if (/alert/i.test(e.message) || /ALERT/.test(code)) {
    return authError(`${describe}: the server refused our TLS client certificate ${pki.clientCert} (${e.message})`, e);
  }
  if (/CERT|SELF_SIGNED|HOSTNAME|ALTNAME/.test(code) || /certificate|altnames/i.test(e.message)) {
    return authError(`${describe}: the server's certificate was not accepted (${e.message}); CA ${pki.caCert}${verify ? '' : ' (no_verify)'}`, e);
  }
  return systemError(`unable to connect to server at '${describe.replace(/^tls:/, '')}'`, e);
}

function readVerdict(socket: TLSSocket, describe: string, clientCert: string, failure: (e: Error) => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    const onReadable = () => {
      const byte = socket.read(1) as Buffer | null;
      if (byte === null) return;
      cleanup();
      if (byte[0] === VERDICT_OK) resolve();
      else reject(authError(`${describe}: the server rejected our certificate or address (TLS verdict ${byte[0]})`));
    };
    const onEnd = () => {
      cleanup();
      reject(authError(`${describe}: the server closed the connection instead of accepting our client certificate ${clientCert}`));
    };
    const onError = (e: Error) => {
      cleanup();
      reject(failure(e));
    };
    const cleanup = () => {
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('error', onError);
    };
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('error', onError);
    onReadable();
  });
}

export async function openTlsTransport(target: RemoteTarget, options: OpenTransportOptions = {}): Promise<RemoteTransport> {
  const host = targetHost(target);
  const port = targetPort(target, 'tls');
  const describe = `tls:${hostPort(host, port)}`;
  const verify = !target.client.noVerify;
  const pki = locateClientPki(target.client.pkipath);
  const secureContext = secureContextFor(pki, verify);

  if (target.client.tlsPriority !== undefined) {
    throw virError(ErrorCode.NO_SUPPORT, ErrorDomain.RPC, `${describe}: ?tls_priority= (a GnuTLS priority string) is not supported by this client`);
  }
  const failure = (e: Error) => tlsFailure(describe, e, pki, verify);

  let socket: TLSSocket | undefined;
  return boundedAttempt<RemoteTransport>(
    describe,
    options,
    (resolve, reject) => {
      const tlsOptions: ConnectionOptions = { host, port, secureContext, rejectUnauthorized: verify };
      if (!isIP(host)) tlsOptions.servername = host;
      const s = tlsConnect(tlsOptions);
      socket = s;
      const onHandshakeError = (e: Error) => reject(failure(e));
      s.once('error', onHandshakeError);
      s.once('secureConnect', () => {
        s.off('error', onHandshakeError);
        (s as unknown as Socket).setNoDelay(true);
        readVerdict(s, describe, pki.clientCert, failure).then(
          () => resolve({ stream: s, secure: true, describe, close: () => s.destroy() }),
          reject,
        );
      });
    },
    () => socket?.destroy(),
  );
}
