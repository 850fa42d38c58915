/**
 * The xend sub-driver: a Xen host managed by xend (Xen < 4.5), reached over xend's HTTP
 * interface. It learns xend's config version at open and hands it to the converters;
 * managed (inactive) domains exist only from version 3 on, so below that those calls
 * answer VIR_ERR_NO_SUPPORT and the routing table falls back to the config-file driver.
 */
import { VirError, ErrorCode, ErrorDomain } from '../../../errors.js';
import { parseDomainXML } from '../../../domain/index.js';
import { readFile } from 'node:fs/promises';
import { xenCapabilities, xmlFromNative, xmlToNative, type XendConfigVersion, type Sexpr } from '../../../convert/index.js';
import type { DomainInfo, DomainRef, ListDomainsFlags, NodeInfo, VcpuInfo, XMLDescFlags } from '../../../driver.js';
import type { SubDriver, SubDriverContext, SubDriverFactory } from '../subdriver.js';
import { parseXendAddress } from './address.js';
import { XendClient, type XendClientOptions } from './calls.js';
import {
  configVersionFromNode,
  domainInfoFromSexpr,
  domainRefFromSexpr,
  nodeInfoFromSexpr,
  versionFromNode,
  vcpuInfoFromSexpr,
} from './replies.js';
import { sexprGet } from '../../../convert/index.js';

export { parseXendAddress, DEFAULT_XEND_SOCKET } from './address.js';
export { XendClient } from './calls.js';

const MiB = 1024;

/** Methods that need xend's managed domains (config version >= 3). */
export const MANAGED_ONLY = ['defineXML', 'domainCreate', 'domainUndefine'] as const;

function noDomain(what: string): VirError {
  return new VirError(`xend knows no domain ${what}`, { code: ErrorCode.NO_DOMAIN, domain: ErrorDomain.XEND });
}

function checkCount(n: unknown, what: string): number {
  if (!Number.isSafeInteger(n) || (n as number) < 0) {
    throw new VirError(`${what} must be a non-negative whole number, got ${String(n)}`, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEND });
  }
  return n as number;
}

function checkPath(p: unknown, what: string): string {
  if (typeof p !== 'string' || !p.startsWith('/') || p.includes('\0')) {
    throw new VirError(`${what} must be an absolute path`, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEND });
  }
  return p;
}

export class XendSubDriver implements SubDriver {
  readonly name = 'xend' as const;
  readonly client: XendClient;
  /** xend_config_format of this xend (1 = 3.0.2 … 4 = 3.1.0 and later). */
  readonly configVersion: XendConfigVersion;

  constructor(client: XendClient, node: Sexpr) {
    this.client = client;
    this.configVersion = configVersionFromNode(node);
    if (!this.hasManagedDomains) {
      // Hide what this xend cannot do, so the routing table's single-owner routes pick
      // the config-file sub-driver instead of failing here.
      for (const m of MANAGED_ONLY) Object.defineProperty(this, m, { value: undefined, enumerable: false });
    }
  }

  /** Managed domains (define/start/undefine, inactive listing) arrived with config version 3. */
  get hasManagedDomains(): boolean {
    return this.configVersion >= 3;
  }

  #needManaged(what: string): void {
    if (!this.hasManagedDomains) {
      throw new VirError(`${what}: xend config version ${this.configVersion} has no managed domains (the config-file sub-driver handles inactive domains)`, {
        code: ErrorCode.NO_SUPPORT,
        domain: ErrorDomain.XEND,
      });
    }
  }

  async close(): Promise<void> {
    // One connection per request: nothing stays open.
  }

  getType(): string {
    return 'Xen';
  }

  async getVersion(): Promise<number> {
    return versionFromNode(await this.client.node());
  }

  async getHostname(): Promise<string> {
    const h = sexprGet(await this.client.node(), 'host');
    if (!h) throw new VirError('xend did not report a host name', { code: ErrorCode.GET_FAILED, domain: ErrorDomain.XEND });
    return h;
  }

  /** Guest ABIs from xend's xen_caps; CPU features from this host's cpuinfo when xend is local. */
  async getCapabilities(): Promise<string> {
    const node = await this.client.node();
    const caps = sexprGet(node, 'xen_caps');
    if (caps === undefined) throw new VirError('xend did not report xen_caps', { code: ErrorCode.GET_FAILED, domain: ErrorDomain.XEND });
    const machine = sexprGet(node, 'machine') ?? 'x86_64';
    const arch = /^i[3-6]86$/.test(machine) ? 'i686' : machine;
    const cpuinfo = this.client.address.kind === 'unix' ? await readFile('/proc/cpuinfo', 'utf8').catch(() => '') : '';
    return xenCapabilities({ arch, cpuinfo, capabilities: caps, hypervisorMajor: versionFromNode(node) / 1_000_000 | 0 });
  }

  async nodeGetInfo(): Promise<NodeInfo> {
    return nodeInfoFromSexpr(await this.client.node());
  }

  async #inactiveDomains(): Promise<Sexpr[]> {
    if (!this.hasManagedDomains) return [];
    const names = await this.client.domainNames('halted');
    const out: Sexpr[] = [];
    for (const n of names) {
      const d = await this.client.domain(n);
      if (d) out.push(d.sexpr); // deleted meanwhile: skip
    }
    return out;
  }

  /** Below config version 3 this lists active domains only (xend has no others). */
  async listAllDomains(flags: ListDomainsFlags = {}): Promise<DomainRef[]> {
    const both = !flags.active && !flags.inactive;
    const out: DomainRef[] = [];
    if (both || flags.active) for (const d of await this.client.domainsDetail()) out.push(domainRefFromSexpr(d));
    if (both || flags.inactive) {
      if (!both) this.#needManaged('listing inactive domains');
      for (const d of await this.#inactiveDomains()) out.push(domainRefFromSexpr(d));
    }
    // A managed domain that is running appears in both lists; keep one.
    const seen = new Set<string>();
    return out.filter((r) => (seen.has(r.uuid) ? false : (seen.add(r.uuid), true)));
  }

  async #get(dom: DomainRef | string): Promise<{ sexpr: Sexpr; text: string }> {
    const name = typeof dom === 'string' ? dom : dom.name;
    const d = await this.client.domain(name);
    if (!d) throw noDomain(`named '${name}'`);
    return d;
  }

  async lookupDomainByName(name: string): Promise<DomainRef> {
    const ref = domainRefFromSexpr((await this.#get(name)).sexpr);
    if (ref.name !== name) throw noDomain(`named '${name}'`);
    return ref;
  }

  async lookupDomainById(id: number): Promise<DomainRef> {
    checkCount(id, 'domain id');
    const d = await this.client.domain(String(id));
    // xend resolves names and ids through the same path: make sure it was the id.
    const ref = d ? domainRefFromSexpr(d.sexpr) : undefined;
    if (!ref || ref.id !== id) throw noDomain(`with id ${id}`);
    return ref;
  }

  async lookupDomainByUUID(uuid: string): Promise<DomainRef> {
    const want = uuid.toLowerCase();
    for (const d of await this.client.domainsDetail()) {
      const r = domainRefFromSexpr(d);
      if (r.uuid === want) return r;
    }
    for (const d of await this.#inactiveDomains()) {
      const r = domainRefFromSexpr(d);
      if (r.uuid === want) return r;
    }
    throw noDomain(`with uuid ${uuid}`);
  }

  async domainGetInfo(dom: DomainRef): Promise<DomainInfo> {
    return domainInfoFromSexpr((await this.#get(dom)).sexpr);
  }

  async domainGetXMLDesc(dom: DomainRef, _flags: XMLDescFlags = {}): Promise<string> {
    const d = await this.#get(dom);
    return xmlFromNative('xen-sxpr', d.text, { xendConfigVersion: this.configVersion });
  }

  async domainGetVcpus(dom: DomainRef): Promise<VcpuInfo[]> {
    const r = await this.client.get(`/xend/domain/${encodeURIComponent(dom.name)}?op=vcpuinfo`, { allowMissing: true });
    if (!r) throw noDomain(`named '${dom.name}'`);
    return vcpuInfoFromSexpr(r.sexpr);
  }

  async domainSuspend(dom: DomainRef): Promise<void> {
    await this.client.domainOp(dom.name, 'pause');
  }

  async domainResume(dom: DomainRef): Promise<void> {
    await this.client.domainOp(dom.name, 'unpause');
  }

  async domainShutdown(dom: DomainRef): Promise<void> {
    await this.client.domainOp(dom.name, 'shutdown', [['reason', 'poweroff']]);
  }

  async domainReboot(dom: DomainRef): Promise<void> {
    await this.client.domainOp(dom.name, 'shutdown', [['reason', 'reboot']]);
  }

  async domainDestroy(dom: DomainRef): Promise<DomainRef> {
    await this.client.domainOp(dom.name, 'destroy');
    return { ...dom, id: -1 };
  }

  async domainSetMemory(dom: DomainRef, kib: number): Promise<void> {
    checkCount(kib, 'memory (KiB)');
    await this.client.domainOp(dom.name, 'mem_target_set', [['target', String(Math.floor(kib / MiB))]]);
  }

  async domainSetMaxMemory(dom: DomainRef, kib: number): Promise<void> {
    checkCount(kib, 'maximum memory (KiB)');
    await this.client.domainOp(dom.name, 'maxmem_set', [['memory', String(Math.floor(kib / MiB))]]);
  }

  async domainSetVcpus(dom: DomainRef, count: number): Promise<void> {
    if (checkCount(count, 'vcpu count') < 1) {
      throw new VirError('vcpu count must be at least 1', { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEND });
    }
    await this.client.domainOp(dom.name, 'set_vcpus', [['vcpus', String(count)]]);
  }

  async domainPinVcpu(dom: DomainRef, vcpu: number, cpumap: number[]): Promise<void> {
    checkCount(vcpu, 'vcpu number');
    if (!Array.isArray(cpumap) || cpumap.length === 0) {
      throw new VirError('cpumap must list at least one physical CPU', { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEND });
    }
    for (const c of cpumap) checkCount(c, 'physical CPU number');
    await this.client.domainOp(dom.name, 'pincpu', [
      ['vcpu', String(vcpu)],
      ['cpumap', `[${[...new Set(cpumap)].sort((a, b) => a - b).join(',')}]`],
    ]);
  }

  async domainSave(dom: DomainRef, path: string): Promise<DomainRef> {
    await this.client.domainOp(dom.name, 'save', [['file', checkPath(path, 'save file')]], { long: true });
    return { ...dom, id: -1 };
  }

  /** The public core-dump call: xend's dump op, non-live (the domain is paused while written). */
  async domainCoreDump(dom: DomainRef, path: string): Promise<void> {
    await this.dump(dom, path);
  }

  async restore(path: string): Promise<void> {
    await this.client.directoryOp('restore', [['file', checkPath(path, 'save file')]], { long: true });
  }

  async createXML(xml: string): Promise<DomainRef> {
    const config = xmlToNative('xen-sxpr', xml, { xendConfigVersion: this.configVersion });
    const reply = await this.client.directoryOp('create', [['config', config]]);
    if (Array.isArray(reply) && reply[0] === 'domain') return domainRefFromSexpr(reply);
    return this.lookupDomainByName(parseDomainXML(xml).name);
  }

  async defineXML(xml: string): Promise<DomainRef> {
    this.#needManaged('defining a domain');
    const config = xmlToNative('xen-sxpr', xml, { xendConfigVersion: this.configVersion });
    await this.client.directoryOp('new', [['config', config]]);
    return this.lookupDomainByName(parseDomainXML(xml).name);
  }

  async domainCreate(dom: DomainRef): Promise<DomainRef> {
    this.#needManaged('starting a defined domain');
    await this.client.domainOp(dom.name, 'start');
    return this.lookupDomainByName(dom.name);
  }

  async domainUndefine(dom: DomainRef): Promise<void> {
    this.#needManaged('undefining a domain');
    await this.client.domainOp(dom.name, 'delete');
  }

  // --- xend operations the public API does not expose (yet) ---------------------------

  /** Write a core dump of a running domain. */
  async dump(dom: DomainRef, path: string, opts: { live?: boolean; crash?: boolean } = {}): Promise<void> {
    await this.client.domainOp(
      dom.name,
      'dump',
      [
        ['file', checkPath(path, 'dump file')],
        ['live', opts.live ? '1' : '0'],
        ['crash', opts.crash ? '1' : '0'],
      ],
      { long: true },
    );
  }

  /** Hot-plug a device given as xend S-expression, e.g. `(vbd (dev xvdb) …)`. */
  async deviceCreate(dom: DomainRef, config: string): Promise<void> {
    await this.client.domainOp(dom.name, 'device_create', [['config', config]]);
  }

  /** Unplug a device by type (vbd, vif, …) and device name or id. */
  async deviceDestroy(dom: DomainRef, type: string, dev: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.client.domainOp(dom.name, 'device_destroy', [
      ['type', type],
      ['dev', dev],
      ['force', opts.force ? '1' : '0'],
    ]);
  }

  /** Migrate to another xend's relocation port. */
  async migrate(dom: DomainRef, destination: string, opts: { live?: boolean; port?: number } = {}): Promise<void> {
    if (typeof destination !== 'string' || destination === '' || /[\s\0]/.test(destination)) {
      throw new VirError('migration destination must be a host name', { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEND });
    }
    await this.client.domainOp(
      dom.name,
      'migrate',
      [
        ['destination', destination],
        ['live', opts.live ? '1' : '0'],
        ['port', String(opts.port ?? 0)],
      ],
      { long: true },
    );
  }
}

/** Open: reach xend and read its node record (which carries the config version). */
export async function openXend(ctx: Pick<SubDriverContext, 'options'>, clientOpts: XendClientOptions = {}): Promise<XendSubDriver> {
  const client = new XendClient(parseXendAddress(ctx.options.xendAddress), clientOpts);
  const node = await client.node();
  return new XendSubDriver(client, node);
}

export const xendSubDriverFactory: SubDriverFactory = {
  name: 'xend',
  open: (ctx) => openXend(ctx),
};
