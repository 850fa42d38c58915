/**
 * `xenvirt-proxy`: the privileged daemon (run as root, e.g. by systemd) that serves the
 * read-only subset of a Xen host to unprivileged local users over a unix socket.
 *
 *   xenvirt-proxy [--socket PATH] [--uri URI] [--max-clients N] [--max-request-bytes N]
 *                 [--allow-uid UID]… [--allow-gid GID]… [--verbose]
 *
 * It opens URI (default xen:///) once, as root, and answers every client from that
 * connection. SIGTERM/SIGINT stop it and remove the socket.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { VirError, ErrorCode, ErrorDomain, isVirError } from '../errors.js';
import { driversForScheme, loadDriversForScheme } from '../registry.js';
import type { HypervisorDriver } from '../driver.js';
import '../drivers/test/index.js';
import '../drivers/xen/index.js';
import '../drivers/xen/xend/register.js';
import { ProxyServer } from './server.js';
import { DEFAULT_PROXY_SOCKET } from './client.js';

export interface DaemonOptions {
  socket: string;
  uri: string;
  maxClients: number;
  maxRequestBytes: number;
  allowUids: number[];
  allowGids: number[];
  verbose: boolean;
  allowNonRoot: boolean;
}

function usage(message: string): VirError {
  return new VirError(`${message}\nusage: xenvirt-proxy [--socket PATH] [--uri URI] [--max-clients N] [--max-request-bytes N] [--allow-uid UID]... [--allow-gid GID]... [--verbose]`, {
    code: ErrorCode.INVALID_ARG,
    domain: ErrorDomain.PROXY,
  });
}

export function parseDaemonArgs(argv: string[]): DaemonOptions {
  const o: DaemonOptions = {
    socket: DEFAULT_PROXY_SOCKET,
    uri: 'xen:///',
    maxClients: 32,
    maxRequestBytes: 64 * 1024,
    allowUids: [],
    allowGids: [],
    verbose: false,
    allowNonRoot: false,
  };
  const num = (flag: string, v: string | undefined, min: number): number => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) throw usage(`${flag} needs a whole number >= ${min}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => argv[++i];
    switch (a) {
      case '--socket': {
        const v = next();
        if (!v || !v.startsWith('/')) throw usage('--socket needs an absolute path');
        o.socket = v;
        break;
      }
      case '--uri': {
        const v = next();
        if (!v) throw usage('--uri needs a URI');
        o.uri = v;
        break;
      }
      case '--max-clients':
        o.maxClients = num(a, next(), 1);
        break;
      case '--max-request-bytes':
        o.maxRequestBytes = num(a, next(), 64);
        break;
      case '--allow-uid':
        o.allowUids.push(num(a, next(), 0));
        break;
      case '--allow-gid':
        o.allowGids.push(num(a, next(), 0));
        break;
      case '--verbose':
        o.verbose = true;
        break;
      // For trying the daemon against the test driver without root.
      case '--allow-non-root':
        o.allowNonRoot = true;
        break;
      default:
        throw usage(`unknown argument '${a}'`);
    }
  }
  return o;
}

/** Open the backend connection's driver directly (read-only, proxy disabled). */
async function openBackend(uri: string): Promise<HypervisorDriver> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw usage(`invalid URI '${uri}'`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  const options = scheme === 'xen' ? { xen: { disable: ['proxy'] } } : {};
  await loadDriversForScheme(scheme);
  for (const reg of driversForScheme(scheme)) {
    const r = await reg.open(url, { options, readOnly: true, events: new EventEmitter() });
    if (r !== 'declined') return r.driver;
  }
  throw new VirError(`no driver for '${uri}'`, { code: ErrorCode.NO_CONNECT, domain: ErrorDomain.PROXY });
}

export async function runDaemon(o: DaemonOptions): Promise<{ server: ProxyServer; stop(): Promise<void> }> {
  if (!o.allowNonRoot && process.getuid?.() !== 0) {
    throw new VirError('xenvirt-proxy must run as root (it reads Xen on behalf of unprivileged users)', { code: ErrorCode.OPERATION_DENIED, domain: ErrorDomain.PROXY });
  }
  const driver = await openBackend(o.uri);
  const log = (m: string) => process.stderr.write(`xenvirt-proxy: ${m}\n`);
  mkdirSync(dirname(o.socket), { recursive: true, mode: 0o755 });
  const server = new ProxyServer({
    socketPath: o.socket,
    backend: driver,
    maxClients: o.maxClients,
    maxRequestBytes: o.maxRequestBytes,
    ...(o.allowUids.length > 0 || o.allowGids.length > 0 ? { allowUids: o.allowUids, allowGids: o.allowGids } : {}),
    log: o.verbose ? log : () => {},
  });
  try {
    await server.listen();
  } catch (e) {
    await driver.close();
    throw e;
  }
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await server.close();
      await driver.close();
    })());
  return { server, stop };
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  try {
    const o = parseDaemonArgs(argv);
    const { stop } = await runDaemon(o);
    process.stderr.write(`xenvirt-proxy: serving ${o.uri} read-only on ${o.socket}\n`);
    const onSignal = () => {
      void stop().then(() => process.exit(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  } catch (e) {
    const code = isVirError(e) ? e.code : ErrorCode.INTERNAL_ERROR;
    process.stderr.write(`xenvirt-proxy: error: ${(e as Error).message} (${code})\n`);
    process.exitCode = 1;
  }
}
