/**
 * Where xend listens: its unix socket (the default) or its TCP port. Parsed once at open
 * so a bad `xendAddress` fails with a clear message instead of on the first call.
 */
import { VirError, ErrorCode, ErrorDomain } from '../../../errors.js';

export const DEFAULT_XEND_SOCKET = '/var/lib/xend/xend-socket';

export type XendAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export function parseXendAddress(text: string | undefined): XendAddress {
  const s = text ?? DEFAULT_XEND_SOCKET;
  if (typeof s !== 'string' || s === '') {
    throw new VirError('xend address must be a socket path or http://host:port', { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEND });
  }
  if (s.startsWith('/')) return { kind: 'unix', path: s };
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new VirError(`invalid xend address '${s}': expected an absolute socket path or http://host:port`, {
      code: ErrorCode.INVALID_ARG,
      domain: ErrorDomain.XEND,
    });
  }
  if (url.protocol !== 'http:' || url.hostname === '' || (url.pathname !== '/' && url.pathname !== '')) {
    throw new VirError(`invalid xend address '${s}': expected an absolute socket path or http://host:port`, {
      code: ErrorCode.INVALID_ARG,
      domain: ErrorDomain.XEND,
    });
  }
  // xend's historical TCP port.
  const port = url.port === '' ? 8000 : Number(url.port);
  return { kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port };
}

export function describeXendAddress(a: XendAddress): string {
  return a.kind === 'unix' ? a.path : `${a.host}:${a.port}`;
}

/** No socket file at xend's unix address (the words of http.ts for a request that found none). */
export function xendSocketMissing(a: XendAddress): VirError {
  return new VirError(`xend at ${describeXendAddress(a)}: cannot connect (ENOENT): is xend running?`, {
    code: ErrorCode.HTTP_ERROR,
    domain: ErrorDomain.XEND,
    errno: 2,
    syscall: 'ENOENT',
  });
}
