/**
 * xend's HTTP interface as typed calls: which path, which form fields, and what the
 * reply means. Replies are S-expressions read by the converters' reader; errors (HTTP
 * status >= 400 or a `(xend.err "…")` reply) become VirErrors carrying xend's own text.
 */
import { VirError, ErrorCode, ErrorDomain } from '../../../errors.js';
import { parseSexpr, type Sexpr } from '../../../convert/index.js';
import { xendHttp, type XendHttpReply } from './http.js';
import { describeXendAddress, type XendAddress } from './address.js';

export interface XendClientOptions {
  /** Default per-request time limit, ms (a daemon that never answers must not hang us). */
  timeoutMs?: number;
  /** Time limit for save/restore/dump/migrate, which move a guest's whole memory. */
  longTimeoutMs?: number;
  /** Largest reply accepted, bytes. */
  maxReplyBytes?: number;
}

export type Form = ReadonlyArray<readonly [string, string]>;

const DEFAULTS = { timeoutMs: 30_000, longTimeoutMs: 30 * 60_000, maxReplyBytes: 16 * 1024 * 1024 };

/** `(xend.err "text")` → text; anything else → undefined. */
export function xendErrorText(e: Sexpr): string | undefined {
  if (!Array.isArray(e) || e[0] !== 'xend.err') return undefined;
  return e
    .slice(1)
    .map((x) => (typeof x === 'string' ? x : ''))
    .join(' ')
    .trim() || 'unknown xend error';
}

// An error reply may be a bare message rather than an S-expression: keep it readable.
function replyText(body: string): string {
  const t = body.trim();
  if (t === '') return '';
  try {
    const e = parseSexpr(t);
    const x = xendErrorText(e);
    if (x !== undefined) return x;
  } catch {
    /* not an S-expression: use it as text */
  }
  return t.length > 500 ? t.slice(0, 500) + '…' : t;
}

export class XendClient {
  readonly address: XendAddress;
  readonly #opts: Required<XendClientOptions>;

  constructor(address: XendAddress, opts: XendClientOptions = {}) {
    this.address = address;
    this.#opts = { ...DEFAULTS, ...opts };
  }

  #fail(code: string, method: string, path: string, detail: string): VirError {
    return new VirError(`xend ${method} ${path} failed: ${detail}`, { code, domain: ErrorDomain.XEND });
  }

  /** Parse a successful reply; an empty body is a valid "nothing to say". */
  #parse(method: string, path: string, reply: XendHttpReply, failCode: string): Sexpr | undefined {
    const t = reply.body.trim();
    if (t === '') return undefined;
    let e: Sexpr;
    try {
      e = parseSexpr(t);
    } catch (err) {
      throw new VirError(`xend ${method} ${path}: unreadable reply: ${(err as Error).message}`, {
        code: ErrorCode.SEXPR_SERIAL,
        domain: ErrorDomain.XEND,
        cause: err,
      });
    }
    const x = xendErrorText(e);
    if (x !== undefined) throw this.#fail(failCode, method, path, x);
    return e;
  }

  /** GET a resource; 404 answers undefined so lookups can say "no such domain" themselves. */
  async get(path: string, opts: { allowMissing?: boolean } = {}): Promise<{ sexpr: Sexpr | undefined; text: string } | undefined> {
    const reply = await xendHttp(this.address, { method: 'GET', path, timeoutMs: this.#opts.timeoutMs, maxBytes: this.#opts.maxReplyBytes });
    if (reply.status === 404 && opts.allowMissing) return undefined;
    if (reply.status >= 400 || reply.status < 200) {
      throw this.#fail(ErrorCode.GET_FAILED, 'GET', path, `HTTP ${reply.status}${replyText(reply.body) ? ': ' + replyText(reply.body) : ''}`);
    }
    return { sexpr: this.#parse('GET', path, reply, ErrorCode.GET_FAILED), text: reply.body };
  }

  /** POST an operation with form fields. */
  async post(path: string, form: Form, opts: { long?: boolean; allowMissing?: boolean } = {}): Promise<Sexpr | undefined | null> {
    const reply = await xendHttp(this.address, {
      method: 'POST',
      path,
      form,
      timeoutMs: opts.long ? this.#opts.longTimeoutMs : this.#opts.timeoutMs,
      maxBytes: this.#opts.maxReplyBytes,
    });
    if (reply.status === 404 && opts.allowMissing) return null;
    if (reply.status >= 400 || reply.status < 200) {
      throw this.#fail(ErrorCode.POST_FAILED, 'POST', path, `HTTP ${reply.status}${replyText(reply.body) ? ': ' + replyText(reply.body) : ''}`);
    }
    return this.#parse('POST', path, reply, ErrorCode.POST_FAILED);
  }

  // --- xend's resources -------------------------------------------------------------

  async node(): Promise<Sexpr> {
    const r = await this.get('/xend/node/');
    if (!r?.sexpr) throw this.#fail(ErrorCode.GET_FAILED, 'GET', '/xend/node/', 'empty reply');
    return r.sexpr;
  }

  /** Every active domain in detail: `((domain …) (domain …))`. */
  async domainsDetail(): Promise<Sexpr[]> {
    const r = await this.get('/xend/domain?detail=1');
    return listOf(r?.sexpr);
  }

  /** Names of domains in a state (xend >= 3.0.4 knows 'halted' for managed, inactive ones). */
  async domainNames(state?: 'running' | 'halted'): Promise<string[]> {
    const r = await this.get(state ? `/xend/domain?state=${state}` : '/xend/domain');
    return listOf(r?.sexpr).filter((x): x is string => typeof x === 'string');
  }

  /** One domain by name or id, with its reply text; undefined when xend does not know it. */
  async domain(nameOrId: string): Promise<{ sexpr: Sexpr; text: string } | undefined> {
    const r = await this.get(`/xend/domain/${encodeURIComponent(nameOrId)}?detail=1`, { allowMissing: true });
    if (!r || !r.sexpr) return undefined;
    return { sexpr: r.sexpr, text: r.text };
  }

  /** POST op=… to /xend/domain/NAME. */
  async domainOp(name: string, op: string, args: Form = [], opts: { long?: boolean } = {}): Promise<Sexpr | undefined> {
    const path = `/xend/domain/${encodeURIComponent(name)}`;
    const r = await this.post(path, [['op', op], ...args], { ...opts, allowMissing: true });
    if (r === null) {
      throw new VirError(`xend POST ${path} op=${op} failed: no domain named '${name}'`, { code: ErrorCode.NO_DOMAIN, domain: ErrorDomain.XEND });
    }
    return r;
  }

  /** POST op=create|new|restore to the domain directory. */
  async directoryOp(op: 'create' | 'new' | 'restore', args: Form, opts: { long?: boolean } = {}): Promise<Sexpr | undefined> {
    return (await this.post('/xend/domain/', [['op', op], ...args], opts)) ?? undefined;
  }

  toString(): string {
    return `xend at ${describeXendAddress(this.address)}`;
  }
}

// xend writes a list of items as one list; a single item may come unwrapped.
function listOf(e: Sexpr | undefined): Sexpr[] {
  if (e === undefined) return [];
  if (typeof e === 'string') return [e];
  if (e.length > 0 && e[0] === 'domain') return [e];
  return e;
}
