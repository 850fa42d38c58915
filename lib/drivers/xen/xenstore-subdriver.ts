/**
 * The XenStore sub-driver: what XenStore knows about running domains. Names and UUIDs
 * under /local/domain/<id>, the balloon target, the shutdown/reboot request to the
 * guest (control/shutdown), console tty and VNC port, and domain lifecycle events from
 * the @introduceDomain / @releaseDomain watches.
 *
 * It cannot tell a paused domain from a running one nor give CPU time: its domain
 * info is a fallback for when the hypervisor sub-driver is not open.
 */
import { ErrorCode, ErrorDomain, VirError, isVirError } from '../../errors.js';
import type { DomainInfo, DomainRef, ListDomainsFlags, XMLDescFlags } from '../../driver.js';
import { XenStore, type Watch as XenStoreWatch, type WatchEvent } from '../../xenstore/index.js';
import type { DomainDef } from '../../domain/index.js';
import type { SubDriver, SubDriverContext, SubDriverFactory } from './subdriver.js';
import { goneError, requireRunning, sameUUID } from './live-domain.js';
import { DomainNameCache } from './xenstore-subdriver-names.js';

const DOM0_UUID = '00000000-0000-0000-0000-000000000000';
const OPEN_PROBE_MS = 5000;

function notFound(what: string): VirError {
  return new VirError(`Domain not found: ${what}`, { code: ErrorCode.NO_DOMAIN, domain: ErrorDomain.XENSTORE });
}

function isENOENT(e: unknown): boolean {
  return isVirError(e) && e.syscall === 'ENOENT';
}

/** A path's value, or undefined when the node does not exist. */
async function readOpt(xs: XenStore, path: string): Promise<string | undefined> {
  try {
    return await xs.read(path);
  } catch (e) {
    if (isENOENT(e)) return undefined;
    throw e;
  }
}

function kib(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

export class XenStoreSubDriver implements SubDriver {
  readonly name = 'xenstore' as const;
  readonly #xs: XenStore;
  readonly #ctx: SubDriverContext;
  readonly #watches: XenStoreWatch[] = [];
  /** Live domains as last seen by the event scan. */
  #known = new Map<number, DomainRef>();
  /** Names, UUIDs and liveness between calls, kept current by watches. */
  readonly #names = new DomainNameCache();
  #scan: Promise<void> = Promise.resolve();
  #closed = false;
  #eventsEnded = false;

  constructor(xs: XenStore, ctx: SubDriverContext) {
    this.#xs = xs;
    this.#ctx = ctx;
  }

  /** The name cache's state (tests and debugging: is it on, is it used). */
  get nameCache(): { live: boolean; hits: number; fills: number } {
    return { live: this.#names.live, hits: this.#names.hits, fills: this.#names.fills };
  }

  // --- reading domains -------------------------------------------------------------

  async #ids(): Promise<number[]> {
    let names: string[];
    try {
      names = await this.#xs.directory('/local/domain');
    } catch (e) {
      if (isENOENT(e)) return [];
      throw e;
    }
    return names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  }

  /**
   * name + UUID of a domain id (ref undefined when XenStore does not, or no longer, name
   * it); cacheable unless the UUID came from a path the name cache does not watch.
   */
  async #ref(id: number): Promise<{ ref: DomainRef | undefined; cacheable: boolean }> {
    const base = `/local/domain/${id}`;
    const [name, vm] = await Promise.all([readOpt(this.#xs, `${base}/name`), readOpt(this.#xs, `${base}/vm`)]);
    if (!name) return { ref: undefined, cacheable: true };
    let uuid = /^\/vm\/([0-9a-fA-F-]{36})(?:$|[-/])/.exec(vm ?? '')?.[1];
    let cacheable = true;
    if (!uuid && vm) {
      uuid = await readOpt(this.#xs, `${vm}/uuid`);
      cacheable = false;
    }
    if (!uuid && id === 0) uuid = DOM0_UUID;
    if (!uuid) return { ref: undefined, cacheable };
    return { ref: { name, uuid: uuid.toLowerCase(), id }, cacheable };
  }

  /**
   * Whether xenstored still has the domain: it forgets (releases) a domain once Xen
   * reports it dead, while its /local/domain entries may linger until a toolstack
   * removes them (or forever, after a destroy by hypercall). Dom0 is always there.
   */
  async #alive(id: number): Promise<boolean> {
    // An error here is an error of the whole answer, never "not running": hiding a
    // running domain because a check failed would be a wrong fact.
    return id === 0 ? true : this.#xs.isDomainIntroduced(id);
  }

  /**
   * A live domain's ref, or undefined when it is not named, not complete or not alive:
   * from the name cache when it holds the id (see xenstore-subdriver-names.ts), else
   * read. The caller has passed the cache's barrier (#ids) under `generation`.
   */
  async #liveRef(id: number, generation: number): Promise<DomainRef | undefined> {
    const hit = this.#names.get(id);
    if (hit?.alive !== undefined) return hit.alive ? hit.ref : undefined;
    try {
      // Only liveness is unsure after an introduce/release: one request, not three.
      const [found, alive] = await Promise.all([hit ? { ref: hit.ref, cacheable: true } : this.#ref(id), this.#alive(id)]);
      if (found.cacheable) this.#names.store(generation, id, { ref: found.ref, alive });
      return alive ? found.ref : undefined;
    } catch (e) {
      if (isENOENT(e)) return undefined; // went away while we looked
      throw e;
    }
  }

  /** One id's live ref; with the cache on, after the barrier (an id not listed is not there). */
  async #oneLiveRef(id: number): Promise<DomainRef | undefined> {
    if (!this.#names.live) return this.#liveRef(id, this.#names.generation);
    const ids = await this.#ids();
    return ids.includes(id) ? this.#liveRef(id, this.#names.generation) : undefined;
  }

  async #all(): Promise<DomainRef[]> {
    // The listing is also the name cache's barrier: entries are used only after it.
    const ids = await this.#ids();
    const generation = this.#names.generation;
    this.#names.retain(ids);
    const refs = await Promise.all(ids.map((id) => this.#liveRef(id, generation)));
    return refs.filter((r): r is DomainRef => r !== undefined);
  }

  /** The id of a live ref, after checking XenStore still gives it to the same domain. */
  async #live(dom: DomainRef): Promise<number> {
    const id = requireRunning(dom, ErrorDomain.XENSTORE);
    const now = await this.#oneLiveRef(id);
    if (!now || !sameUUID(now.uuid, dom.uuid)) throw goneError(dom, ErrorDomain.XENSTORE);
    return id;
  }

  async listAllDomains(flags: ListDomainsFlags = {}): Promise<DomainRef[]> {
    // Everything here is running; asked for inactive domains only, there are none.
    if (flags.active === false || (flags.inactive === true && flags.active !== true)) return [];
    return this.#all();
  }

  async lookupDomainByName(name: string): Promise<DomainRef> {
    const d = (await this.#all()).find((r) => r.name === name);
    if (!d) throw notFound(`no running domain named '${name}' in XenStore`);
    return d;
  }

  async lookupDomainById(id: number): Promise<DomainRef> {
    const d = await this.#oneLiveRef(id);
    if (!d) throw notFound(`no domain with id ${id} in XenStore`);
    return d;
  }

  async lookupDomainByUUID(uuid: string): Promise<DomainRef> {
    const d = (await this.#all()).find((r) => sameUUID(r.uuid, uuid));
    if (!d) throw notFound(`no running domain with uuid ${uuid} in XenStore`);
    return d;
  }

  async #vcpus(id: number): Promise<{ online: number; total: number }> {
    let cpus: string[];
    try {
      cpus = await this.#xs.directory(`/local/domain/${id}/cpu`);
    } catch (e) {
      if (isENOENT(e)) return { online: 0, total: 0 };
      throw e;
    }
    const avail = await Promise.all(cpus.map((c) => readOpt(this.#xs, `/local/domain/${id}/cpu/${c}/availability`)));
    return { online: avail.filter((a) => a === 'online').length, total: cpus.length };
  }

  async domainGetInfo(dom: DomainRef): Promise<DomainInfo> {
    const id = await this.#live(dom);
    const base = `/local/domain/${id}/memory`;
    const [target, max, vcpus] = await Promise.all([readOpt(this.#xs, `${base}/target`), readOpt(this.#xs, `${base}/static-max`), this.#vcpus(id)]);
    const memory = kib(target) ?? 0;
    // Running vs paused and CPU time are hypervisor facts: 'running' and 0 are what XenStore can say.
    return { state: 'running', maxMem: kib(max) ?? memory, memory, nrVirtCpu: vcpus.online, cpuTime: 0 };
  }

  async #requestShutdown(dom: DomainRef, reason: 'poweroff' | 'reboot'): Promise<void> {
    const id = await this.#live(dom);
    if (id === 0) {
      throw new VirError(`refusing to ${reason} Domain-0 through XenStore`, { code: ErrorCode.OPERATION_INVALID, domain: ErrorDomain.XENSTORE });
    }
    await this.#xs.write(`/local/domain/${id}/control/shutdown`, reason);
  }

  async domainShutdown(dom: DomainRef): Promise<void> {
    await this.#requestShutdown(dom, 'poweroff');
  }

  async domainReboot(dom: DomainRef): Promise<void> {
    await this.#requestShutdown(dom, 'reboot');
  }

  async domainSetMemory(dom: DomainRef, kibs: number): Promise<void> {
    const id = await this.#live(dom);
    const max = kib(await readOpt(this.#xs, `/local/domain/${id}/memory/static-max`));
    if (max !== undefined && kibs > max) {
      throw new VirError(`memory ${kibs} KiB exceeds domain '${dom.name}''s maximum of ${max} KiB`, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XENSTORE });
    }
    await this.#xs.write(`/local/domain/${id}/memory/target`, String(kibs));
  }

  /** The live facts XenStore holds, as domain XML (merged over the stored definition by the unified driver). */
  async domainGetXMLDesc(dom: DomainRef, flags: XMLDescFlags = {}): Promise<string> {
    if (flags.inactive) {
      throw new VirError('XenStore holds only the live state of running domains', { code: ErrorCode.NO_SUPPORT, domain: ErrorDomain.XENSTORE });
    }
    const id = await this.#live(dom);
    const base = `/local/domain/${id}`;
    const [target, max, vcpus, tty, vnc, hvm] = await Promise.all([
      readOpt(this.#xs, `${base}/memory/target`),
      readOpt(this.#xs, `${base}/memory/static-max`),
      this.#vcpus(id),
      readOpt(this.#xs, `${base}/console/tty`),
      readOpt(this.#xs, `${base}/console/vnc-port`),
      readOpt(this.#xs, `${base}/hvmloader`).catch(() => undefined),
    ]);
    // The domain XML writer loads on the first dumpXML, not with the open (issue 15).
    const { emptyDevices, formatDomainXML } = await import('../../domain/index.js');
    const memory = kib(target) ?? 0;
    const def: DomainDef = {
      type: 'xen',
      id,
      name: dom.name,
      uuid: dom.uuid,
      memory: kib(max) ?? memory,
      currentMemory: memory,
      vcpus: Math.max(1, vcpus.total),
      ...(vcpus.online > 0 && vcpus.online < vcpus.total ? { vcpuCurrent: vcpus.online } : {}),
      os: { type: hvm !== undefined ? 'hvm' : 'linux' },
      clock: { offset: 'utc' },
      onPoweroff: 'destroy',
      onReboot: 'restart',
      onCrash: 'destroy',
      devices: emptyDevices(),
    };
    def.devices.consoles.push({ type: 'pty', ...(tty ? { tty } : {}), sources: tty ? [{ path: tty }] : [], target: { type: 'xen', port: 0 } });
    const port = kib(vnc);
    if (port !== undefined) def.devices.graphics.push({ type: 'vnc', port, autoport: true, listens: [] });
    return formatDomainXML(def);
  }

  // --- events ----------------------------------------------------------------------

  /**
   * Watch /local/domain (keeps the name cache current) and @introduceDomain /
   * @releaseDomain (each firing also rescans and reports the difference as domain
   * events). The first scan runs once every watch is registered, so the cache is filled
   * under watch; the scans the watches' first firings queue run after it.
   */
  async startEvents(): Promise<void> {
    let started!: () => void;
    this.#scan = new Promise<void>((resolve) => (started = resolve));
    try {
      const store = this.#xs.watch('/local/domain');
      store.on('change', (ev: WatchEvent) => this.#names.storeChanged(ev.path));
      store.on('error', (e: Error) => this.#ctx.log(`XenStore watch on /local/domain failed (${e.message}); names are read on every call from now on`));
      this.#watches.push(store);
      for (const path of ['@introduceDomain', '@releaseDomain']) {
        const w = this.#xs.watch(path);
        w.on('change', () => {
          this.#names.livenessChanged();
          this.#queueScan();
        });
        w.on('error', (e: Error) => this.#eventsFailed(e));
        this.#watches.push(w);
      }
      // Any watch that ends (closed, refused, connection lost) leaves changes unseen.
      for (const w of this.#watches) w.on('close', () => this.#names.disable());
      // A refused /local/domain watch only leaves the cache off; events need the others.
      const storeWatched = store.ready.then(
        () => true,
        () => false,
      );
      await Promise.all(this.#watches.filter((w) => w !== store).map((w) => w.ready));
      if ((await storeWatched) && this.#watches.every((w) => !w.closed)) this.#names.enable();
      this.#known = new Map((await this.#all()).map((r) => [r.id, r]));
    } catch (e) {
      // No events without a first scan to compare with: stop rather than report garbage.
      this.#eventsEnded = true;
      this.#names.disable();
      await Promise.allSettled(this.#watches.map((w) => w.close()));
      throw e;
    } finally {
      started();
    }
  }

  #queueScan(): void {
    if (this.#eventsEnded) return;
    // One scan at a time, in order, so events come out in the order things happened.
    this.#scan = this.#scan.then(() => this.#diff()).catch((e: unknown) => this.#eventsFailed(e as Error));
  }

  /**
   * The domain event stream cannot go on (a watch broke, or a rescan failed so events
   * would be missed): end it, once, with the error on the connection's
   * 'domain-event-error' event, rather than going quiet.
   */
  #eventsFailed(e: Error): void {
    if (this.#closed || this.#eventsEnded) return;
    this.#eventsEnded = true;
    const error = new VirError(`XenStore domain events stopped: ${e.message}`, {
      code: isVirError(e) ? e.code : ErrorCode.INTERNAL_ERROR,
      domain: ErrorDomain.XENSTORE,
      cause: e,
    });
    this.#ctx.log(error.message);
    for (const w of this.#watches) w.close().catch(() => {}); // the stream is over; a failed close changes nothing
    this.#ctx.events.emit('domain-event-error', error); // the connection also records it as a warning
  }

  async #diff(): Promise<void> {
    if (this.#closed) return;
    const now = new Map((await this.#all()).map((r) => [r.id, r]));
    if (this.#closed) return;
    for (const [id, ref] of now) {
      const was = this.#known.get(id);
      if (!was || !sameUUID(was.uuid, ref.uuid)) {
        if (was) this.#emit(was, 'stopped');
        this.#emit(ref, 'started');
      }
    }
    for (const [id, ref] of this.#known) if (!now.has(id)) this.#emit(ref, 'stopped');
    this.#known = now;
  }

  #emit(domain: DomainRef, event: 'started' | 'stopped'): void {
    this.#ctx.events.emit('domain-event', { domain: { ...domain, id: event === 'stopped' ? -1 : domain.id }, event });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#watches.map((w) => w.close()));
    await this.#xs.close();
  }
}

export const xenstoreSubDriverFactory: SubDriverFactory = {
  name: 'xenstore',
  async open(ctx: SubDriverContext) {
    const { xenstorePath, xenstoreDevice } = ctx.options;
    const xs = await XenStore.open({ ...(xenstorePath !== undefined ? { path: xenstorePath } : {}), ...(xenstoreDevice ? { device: true } : {}) });
    try {
      // A socket that accepts but a daemon that never answers must not hang the open.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new VirError(`XenStore at ${xs.endpoint.path} did not answer within ${OPEN_PROBE_MS} ms`, { code: ErrorCode.NO_XENSTORE, domain: ErrorDomain.XENSTORE })), OPEN_PROBE_MS);
      });
      try {
        await Promise.race([readOpt(xs, '/local/domain/0/name'), timeout]);
      } finally {
        clearTimeout(timer);
      }
      const sub = new XenStoreSubDriver(xs, ctx);
      await sub.startEvents().catch((e: unknown) => {
        const w = new VirError(`XenStore domain events unavailable: ${(e as Error).message}`, { code: ErrorCode.NO_XENSTORE, domain: ErrorDomain.XENSTORE, cause: e });
        if (ctx.warn) ctx.warn(w);
        else ctx.log(w.message);
      });
      return sub;
    } catch (e) {
      await xs.close();
      throw e;
    }
  },
};
