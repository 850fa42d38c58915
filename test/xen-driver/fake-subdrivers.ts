/**
 * Fake sub-drivers for the unified driver's unit tests: each stands in for a real
 * sub-driver (which needs Xen, xenstored or xl) so a test can choose, per method,
 * whether it answers or fails, and see which ones were called and closed.
 */
import { ErrorCode, ErrorDomain, VirError } from '../../lib/errors.js';
import type { SubDriver, SubDriverFactory, SubDriverName } from '../../lib/drivers/xen/subdriver.js';

export type FakeBehaviour = { answer: unknown } | { fail: VirError | Error } | { hang: true };

export interface FakeSubDriver extends SubDriver {
  calls: { method: string; args: unknown[] }[];
  closes: number;
}

/** A sub-driver whose methods are exactly the keys of `methods`. */
export function fakeSubDriver(name: SubDriverName, methods: Record<string, FakeBehaviour>): FakeSubDriver {
  const sub: Record<string, unknown> & FakeSubDriver = {
    name,
    calls: [],
    closes: 0,
    async close() {
      sub.closes++;
    },
  } as never;
  for (const [method, b] of Object.entries(methods)) {
    sub[method] = (...args: unknown[]) => {
      sub.calls.push({ method, args });
      if ('hang' in b) return new Promise(() => {});
      if ('fail' in b) return Promise.reject(b.fail);
      return Promise.resolve(typeof b.answer === 'function' ? (b.answer as (...a: unknown[]) => unknown)(...args) : b.answer);
    };
  }
  return sub;
}

export function failure(code: string, message = `fake failure ${code}`, errno?: number): VirError {
  return new VirError(message, { code, domain: ErrorDomain.XEN, ...(errno !== undefined ? { errno } : {}) });
}

export const noDomain = (who: string) => failure(ErrorCode.NO_DOMAIN, `Domain not found (${who})`);

export interface FakeFactory extends SubDriverFactory {
  opens: number;
  opened: FakeSubDriver[];
}

/** A factory that opens `make()` or fails with `fail`. */
export function fakeFactory(name: SubDriverName, make: () => FakeSubDriver, fail?: VirError): FakeFactory {
  const f: FakeFactory = {
    name,
    opens: 0,
    opened: [],
    async open() {
      f.opens++;
      if (fail) throw fail;
      const s = make();
      f.opened.push(s);
      return s;
    },
  };
  return f;
}
