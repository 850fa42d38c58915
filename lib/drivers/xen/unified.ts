/**
 * The unified Xen driver: one HypervisorDriver over the open sub-drivers that walks
 * the routing table for every call. It holds no domain state of its own; sub-drivers
 * keep theirs privately and only ever see their own calls.
 */
import { hostname } from 'node:os';
import { ErrorCode, ErrorDomain, VirError } from '../../errors.js';
import type { DomainRef, HypervisorDriver, ListDomainsFlags, NativeFormat, XMLDescFlags } from '../../driver.js';
import { convertFromNative, convertToNative } from '../native-formats.js';
import { ROUTES, type Route, type RoutedMethod } from './routing.js';
import { asVirError, chooseError, type Attempt } from './error-choice.js';
import { LIVE_SOURCES, fallbackVerdict, isDeclined } from './fallback.js';
import { mergeDomainLists, mergeDomainXML, type Answer } from './merge.js';
import type { SubDriver, SubDriverName } from './subdriver.js';

type AnyFn = (...args: unknown[]) => Promise<unknown>;

/** The call is about one domain the caller holds as running. */
function isLiveRef(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  const r = v as Partial<DomainRef>;
  return typeof r.uuid === 'string' && typeof r.id === 'number' && r.id >= 0;
}

export interface UnifiedDriverOptions {
  /** Where non-fatal trouble goes (a close that failed, …). */
  log?: (message: string) => void;
  /** The table to walk (tests may pass their own; default ROUTES). */
  routes?: Readonly<Record<RoutedMethod, Route>>;
}

export class UnifiedXenDriver {
  readonly #subs: ReadonlyMap<SubDriverName, SubDriver>;
  readonly #routes: Readonly<Record<RoutedMethod, Route>>;
  readonly #log: (message: string) => void;
  #closing: Promise<void> | undefined;

  constructor(subs: ReadonlyMap<SubDriverName, SubDriver>, options: UnifiedDriverOptions = {}) {
    this.#subs = subs;
    this.#routes = options.routes ?? ROUTES;
    this.#log = options.log ?? (() => {});
  }

  /** Which open sub-drivers a method would try, in order. */
  candidates(method: RoutedMethod): SubDriverName[] {
    const route = this.#routes[method];
    return route.order.filter((n) => typeof (this.#subs.get(n) as Record<string, unknown> | undefined)?.[method] === 'function');
  }

  #call(sub: SubDriverName, method: RoutedMethod, args: unknown[]): Promise<unknown> {
    const s = this.#subs.get(sub)! as unknown as Record<string, AnyFn>;
    try {
      return Promise.resolve(s[method]!.apply(s, args));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Run one public method through its route. */
  async route(method: RoutedMethod, args: unknown[]): Promise<unknown> {
    const route = this.#routes[method];
    const subs = this.candidates(method);
    if (subs.length === 0) throw chooseError(method, []);
    if (route.needsDefinition) {
      const xml = await this.route('domainGetXMLDesc', [args[0], { inactive: true }]);
      args = [...args, xml];
    }
    switch (route.policy) {
      case 'single-owner':
        try {
          return await this.#call(subs[0]!, method, args);
        } catch (e) {
          throw asVirError(subs[0]!, e);
        }
      case 'first-success':
        return this.#inOrder(method, subs, args);
      case 'hypervisor-last': {
        // The management layer first, whatever the table's order; privcmd only after it.
        const ordered = [...subs.filter((n) => n !== 'hypervisor'), ...subs.filter((n) => n === 'hypervisor')];
        return this.#inOrder(method, ordered, args);
      }
      case 'live-first':
        return this.#liveFirst(method, subs, args);
      case 'merge':
        return this.#merge(method, subs, args);
    }
  }

  /**
   * Try sub-drivers in order: the first answer wins; a failure moves on or is final by
   * fallback.ts. Every attempt is kept so the error reported when all fail is the most
   * specific one. Skipped failures go to the debug channel.
   */
  async #inOrder(method: RoutedMethod, subs: readonly SubDriverName[], args: unknown[], attempts: Attempt[] = []): Promise<unknown> {
    const runningDomain = isLiveRef(args[0]);
    for (const [i, sub] of subs.entries()) {
      try {
        return await this.#call(sub, method, args);
      } catch (e) {
        const error = asVirError(sub, e);
        attempts.push({ sub, error });
        if (fallbackVerdict(error, { sub, runningDomain }) === 'final') {
          if (subs.length > 1) this.#log(`${method}: ${sub} failed (${error.code}: ${error.message}), final: not trying the others`);
          throw error;
        }
        if (i < subs.length - 1) this.#log(`${method}: ${sub} failed (${error.code}: ${error.message}), trying the next sub-driver`);
      }
    }
    throw chooseError(method, attempts);
  }

  /**
   * Lookups: live sources say what runs; a stored definition answers only when every
   * open live source said the domain is not there (a live source that broke leaves the
   * question open, and an inactive answer from a file could then be a lie).
   */
  async #liveFirst(method: RoutedMethod, subs: readonly SubDriverName[], args: unknown[]): Promise<unknown> {
    const live = subs.filter((n) => LIVE_SOURCES.has(n));
    const stored = subs.filter((n) => !LIVE_SOURCES.has(n));
    const attempts: Attempt[] = [];
    if (live.length > 0) {
      try {
        return await this.#inOrder(method, live, args, attempts);
      } catch (e) {
        const unsure = attempts.filter((a) => a.error.code !== ErrorCode.NO_DOMAIN && !isDeclined(a.error));
        if (stored.length === 0 || unsure.length > 0 || attempts.length < live.length) {
          if (stored.length > 0 && unsure.length > 0) this.#log(`${method}: not asking ${stored.join(', ')}: a live source failed, so the domain may be running`);
          throw e;
        }
      }
    }
    return this.#inOrder(method, stored, args, attempts);
  }

  async #merge(method: RoutedMethod, subs: SubDriverName[], args: unknown[]): Promise<unknown> {
    // Every source gets the widest question; the merged answer is then narrowed, so a
    // domain that runs is not mistaken for an inactive one by a source that cannot see it run.
    const asked = method === 'listAllDomains' ? [(args[0] as ListDomainsFlags | undefined)?.withInfo ? { withInfo: true } : {}] : args;
    const settled = await Promise.allSettled(subs.map((sub) => this.#call(sub, method, asked)));
    const answers: Answer<unknown>[] = [];
    const attempts: Attempt[] = [];
    settled.forEach((r, i) => {
      if (r.status === 'fulfilled') answers.push({ sub: subs[i]!, value: r.value });
      else attempts.push({ sub: subs[i]!, error: asVirError(subs[i]!, r.reason) });
    });
    if (answers.length === 0) throw chooseError(method, attempts);
    for (const a of attempts) this.#log(`${method}: ${a.sub} gave no answer (${a.error.code}: ${a.error.message})`);
    if (method === 'listAllDomains' && subs.some((n) => LIVE_SOURCES.has(n)) && !answers.some((a) => LIVE_SOURCES.has(a.sub))) {
      // Only stored definitions answered: a list without the running domains would be a lie.
      throw chooseError(method, attempts.filter((a) => LIVE_SOURCES.has(a.sub)));
    }
    switch (method) {
      case 'listAllDomains':
        return mergeDomainLists(answers as Answer<DomainRef[]>[], (args[0] ?? {}) as ListDomainsFlags);
      case 'domainGetXMLDesc':
        return mergeDomainXML(answers as Answer<string>[], (args[1] ?? {}) as XMLDescFlags);
      default:
        throw new VirError(`${method}: the routing table says merge but no merge rule exists for it`, {
          code: ErrorCode.INTERNAL_ERROR,
          domain: ErrorDomain.XEN,
        });
    }
  }

  /** Close every sub-driver once; later calls share the first close. Never rejects. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const names = [...this.#subs.keys()];
      const results = await Promise.allSettled(names.map((n) => Promise.resolve().then(() => this.#subs.get(n)!.close())));
      results.forEach((r, i) => {
        if (r.status === 'rejected') this.#log(`closing the ${names[i]} sub-driver failed: ${asVirError(names[i]!, r.reason).message}`);
      });
    })();
    return this.#closing;
  }

  /**
   * The public method table. A method appears only when at least one open sub-driver
   * implements it, so dispatch answers VIR_ERR_NO_SUPPORT for the rest.
   */
  driver(): HypervisorDriver {
    const table: Record<string, unknown> = {
      name: 'Xen',
      close: () => this.close(),
      getType: () => 'Xen',
      getHostname: async () => hostname(),
      domainXMLFromNative: (format: NativeFormat, text: string) => convertFromNative(format, text),
      domainXMLToNative: (format: NativeFormat, xml: string) => convertToNative(format, xml),
    };
    for (const method of Object.keys(this.#routes) as RoutedMethod[]) {
      if (this.candidates(method).length > 0) table[method] = (...args: unknown[]) => this.route(method, args);
    }
    return table as unknown as HypervisorDriver;
  }
}
