/**
 * The hypervisor sub-driver: an adapter from lib/hypervisor (hypercalls through
 * privcmd) to the public method names. Xen knows domains by id and UUID only, so this
 * sub-driver lists nameless refs (the unified driver gets names elsewhere) and checks
 * the UUID before acting, because ids are reused once a domain is gone.
 */
import { readFile } from 'node:fs/promises';
import type { DomainInfo, DomainRef, ListDomainsFlags, NodeInfo, VcpuInfo } from '../../driver.js';
import type { HvDomainInfo, HypervisorDriver as Hypervisor } from '../../hypervisor/index.js';
import type { SubDriver, SubDriverContext, SubDriverFactory } from './subdriver.js';
import { goneError, requireRunning, sameUUID } from './live-domain.js';

function infoOf(i: HvDomainInfo): DomainInfo {
  return { state: i.state, maxMem: i.maxMem, memory: i.memory, nrVirtCpu: i.nrVirtCpu, cpuTime: i.cpuTime };
}

const LIBVIRT_ARCH: Record<string, string> = { x64: 'x86_64', ia32: 'i686', arm64: 'aarch64' };

export class HypervisorSubDriver implements SubDriver {
  readonly name = 'hypervisor' as const;
  readonly #hv: Hypervisor;

  constructor(hv: Hypervisor) {
    this.#hv = hv;
  }

  /** The domain behind a live ref, after checking the id still belongs to it. */
  #live(dom: DomainRef) {
    const info = this.#hv.domainInfo(requireRunning(dom));
    if (!sameUUID(info.uuid, dom.uuid)) throw goneError(dom);
    return info;
  }

  async getVersion(): Promise<number> {
    const v = this.#hv.version();
    const release = Number.parseInt(v.extra.replace(/^\./, ''), 10);
    return v.major * 1_000_000 + v.minor * 1000 + (Number.isFinite(release) ? release : 0);
  }

  async getCapabilities(): Promise<string> {
    const v = this.#hv.version();
    const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
    // The capabilities builder alone, on first use: an open that only lists needs no converter.
    const { xenCapabilities } = await import('../../convert/capabilities.js');
    return xenCapabilities({ arch: LIBVIRT_ARCH[process.arch] ?? process.arch, cpuinfo, capabilities: v.capabilities, hypervisorMajor: v.major });
  }

  async nodeGetInfo(): Promise<NodeInfo> {
    return this.#hv.nodeInfo();
  }

  /** Every domain from one getdomaininfolist batch; with withInfo, each one's info from that same batch. */
  async listAllDomains(flags: ListDomainsFlags = {}): Promise<DomainRef[]> {
    return this.#hv
      .listDomains()
      .filter((d) => !d.dying)
      .map((d) => (flags.withInfo ? { name: '', uuid: d.uuid, id: d.domid, info: infoOf(d) } : { name: '', uuid: d.uuid, id: d.domid }));
  }

  async domainGetInfo(dom: DomainRef): Promise<DomainInfo> {
    return infoOf(this.#live(dom));
  }

  async domainSuspend(dom: DomainRef): Promise<void> {
    await this.#hv.pause(this.#live(dom).domid);
  }

  async domainResume(dom: DomainRef): Promise<void> {
    await this.#hv.unpause(this.#live(dom).domid);
  }

  async domainDestroy(dom: DomainRef): Promise<DomainRef> {
    await this.#hv.destroy(this.#live(dom).domid);
    return { ...dom, id: -1 };
  }

  async domainSetMaxMemory(dom: DomainRef, kib: number): Promise<void> {
    this.#hv.setMaxMemory(this.#live(dom).domid, kib);
  }

  async domainGetVcpus(dom: DomainRef): Promise<VcpuInfo[]> {
    return this.#hv.getVcpus(this.#live(dom).domid);
  }

  async domainPinVcpu(dom: DomainRef, vcpu: number, cpumap: number[]): Promise<void> {
    this.#hv.pinVcpu(this.#live(dom).domid, vcpu, cpumap);
  }

  async close(): Promise<void> {
    this.#hv.close();
  }
}

export const hypervisorSubDriverFactory: SubDriverFactory = {
  name: 'hypervisor',
  async open(_ctx: SubDriverContext) {
    // Loaded on open: connections that never reach this far do not load the addon.
    const { HypervisorDriver } = await import('../../hypervisor/index.js');
    return new HypervisorSubDriver(HypervisorDriver.open());
  },
};
