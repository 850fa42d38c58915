/**
 * The byte mover to xend: one HTTP/1.1 request per call with Node's own client, over the
 * unix socket or TCP. It only knows HTTP; what the body means is calls.ts's business.
 * Every way the transport can fail (refused, dropped mid-reply, too slow, too large)
 * becomes a VirError VIR_ERR_HTTP_ERROR naming the request, never a hang.
 */
import http from 'node:http';
import { VirError, ErrorCode, ErrorDomain } from '../../../errors.js';
import { describeXendAddress, type XendAddress } from './address.js';

export interface XendHttpRequest {
  method: 'GET' | 'POST';
  /** Path with query, e.g. /xend/domain?detail=1 */
  path: string;
  /** Form fields for POST, sent application/x-www-form-urlencoded in this order. */
  form?: ReadonlyArray<readonly [string, string]>;
  /** Give up after this long (ms). */
  timeoutMs: number;
  /** Largest reply body accepted (bytes). */
  maxBytes: number;
}

export interface XendHttpReply {
  status: number;
  body: string;
}

export function encodeForm(fields: ReadonlyArray<readonly [string, string]>): string {
  const p = new URLSearchParams();
  for (const [k, v] of fields) p.append(k, v);
  return p.toString();
}

function transportError(addr: XendAddress, req: XendHttpRequest, what: string, cause?: NodeJS.ErrnoException): VirError {
  return new VirError(`xend at ${describeXendAddress(addr)}: ${req.method} ${req.path}: ${what}`, {
    code: ErrorCode.HTTP_ERROR,
    domain: ErrorDomain.XEND,
    ...(cause?.errno !== undefined ? { errno: Math.abs(cause.errno) } : {}),
    ...(cause?.code !== undefined ? { syscall: cause.code } : {}),
    ...(cause ? { cause } : {}),
  });
}

export function xendHttp(addr: XendAddress, req: XendHttpRequest): Promise<XendHttpReply> {
  return new Promise<XendHttpReply>((resolve, reject) => {
    const body = req.form ? Buffer.from(encodeForm(req.form)) : undefined;
    const headers: Record<string, string> = { 'Accept-Encoding': 'identity', Connection: 'close' };
    if (body) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = String(body.length);
    }
    let settled = false;
    const finish = (err: VirError | undefined, value?: XendHttpReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        r.destroy();
        reject(err);
      } else resolve(value!);
    };
    const r = http.request({
      ...(addr.kind === 'unix' ? { socketPath: addr.path } : { host: addr.host, port: addr.port }),
      method: req.method,
      path: req.path,
      headers,
      // One connection per call: xend closes after each reply anyway, and no pooled
      // socket can keep the caller's process alive.
      agent: false,
    });
    const timer = setTimeout(() => finish(transportError(addr, req, `no complete reply within ${req.timeoutMs} ms`)), req.timeoutMs);
    r.on('error', (e: NodeJS.ErrnoException) => {
      const what = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? `cannot connect (${e.code}): is xend running?` : `request failed: ${e.message}`;
      finish(transportError(addr, req, what, e));
    });
    r.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > req.maxBytes) {
          finish(transportError(addr, req, `reply larger than ${req.maxBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('error', (e: NodeJS.ErrnoException) => finish(transportError(addr, req, `reply interrupted: ${e.message}`, e)));
      res.on('close', () => {
        if (!res.complete) finish(transportError(addr, req, 'connection closed before the reply was complete'));
      });
      res.on('end', () => {
        if (!res.complete) return; // 'close' reports it
        finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    r.end(body);
  });
}
