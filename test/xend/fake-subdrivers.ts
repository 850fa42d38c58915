/**
 * FAKE hypervisor / xenstore / config-file sub-drivers for routing tests only: the real
 * ones need a Xen host, which cannot run here next to the simulated xend. Each records
 * the calls it gets, answers them plainly, and can be told to fail, so a test sees which
 * sub-driver a route reached and in which order.
 */
import type { DomainRef } from '../../lib/driver.js';
import { VirError, ErrorCode, ErrorDomain } from '../../lib/errors.js';
import type { SubDriver, SubDriverFactory, SubDriverName } from '../../lib/drivers/xen/subdriver.js';

export interface FakeSubDriver {
  factory: SubDriverFactory;
  calls: string[];
  failing: Set<string>;
}

export function fakeSubDriver(name: SubDriverName, methods: string[], answer: (method: string, args: unknown[]) => unknown = () => undefined): FakeSubDriver {
  const calls: string[] = [];
  const failing = new Set<string>();
  const factory: SubDriverFactory = {
    name,
    open: async () => {
      const sub: Record<string, unknown> = { name, close: async () => {} };
      for (const m of methods) {
        sub[m] = async (...args: unknown[]) => {
          calls.push(m);
          if (failing.has(m)) throw new VirError(`fake ${name}: ${m} failed on purpose`, { code: ErrorCode.OPERATION_FAILED, domain: ErrorDomain.XEN });
          return answer(m, args);
        };
      }
      return sub as unknown as SubDriver;
    },
  };
  return { factory, calls, failing };
}

export const someRef: DomainRef = { name: 'elsewhere', uuid: '11111111-2222-3333-4444-555555555555', id: 42 };
