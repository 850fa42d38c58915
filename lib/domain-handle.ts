/**
 * `Domain`: a handle on one domain of a connection. It carries name, UUID and id and
 * forwards every call through the connection's dispatch path.
 */
import type { DispatchState } from './dispatch.js';
import { callDriver, checkCall } from './dispatch.js';
import { checkBoolean, checkCpuMap, checkFlags, checkPositive, checkString, checkUInt } from './args.js';
import type { DomainInfo, DomainRef, VcpuInfo, XMLDescFlags } from './driver.js';

export class Domain {
  #state: DispatchState;
  #ref: DomainRef;
  /** Info read with the list (listAllDomains({ withInfo: true })): answers the first getInfo() only. */
  #listedInfo: DomainInfo | undefined;

  /** @internal Created by Connection; users get Domains from lookups and lists. */
  constructor(state: DispatchState, ref: DomainRef, listedInfo?: DomainInfo) {
    this.#state = state;
    this.#ref = { name: ref.name, uuid: ref.uuid, id: ref.id };
    this.#listedInfo = listedInfo;
  }

  get name(): string {
    return this.#ref.name;
  }
  get uuid(): string {
    return this.#ref.uuid;
  }
  /** Live id, -1 when inactive (as of the last call through this handle). */
  get id(): number {
    return this.#ref.id;
  }

  /** Run a domain method and adopt the driver's updated identity, if it returns one. */
  async #call<T>(method: Parameters<typeof callDriver>[1], ...args: unknown[]): Promise<T> {
    const out = await callDriver<T>(this.#state, method, this.#ref, ...args);
    if (out && typeof out === 'object' && 'uuid' in out && 'id' in out && 'name' in out) {
      const ref = out as unknown as DomainRef;
      this.#ref = { name: ref.name, uuid: ref.uuid, id: ref.id };
    }
    return out;
  }

  /**
   * State, memory, vCPUs and CPU time. On a Domain from listAllDomains({ withInfo: true })
   * the first call returns the info read with the list, without asking the driver again;
   * every later call asks the driver.
   */
  async getInfo(): Promise<DomainInfo> {
    const listed = this.#listedInfo;
    if (listed !== undefined) {
      checkCall(this.#state, 'domainGetInfo');
      this.#listedInfo = undefined;
      return { ...listed };
    }
    const info = await this.#call<DomainInfo>('domainGetInfo');
    // Keep the handle's id honest: an inactive domain has no id.
    if (info.state === 'shutoff' && this.#ref.id !== -1) this.#ref = { ...this.#ref, id: -1 };
    return info;
  }
  async suspend(): Promise<void> {
    await this.#call('domainSuspend');
  }
  async resume(): Promise<void> {
    await this.#call('domainResume');
  }
  async shutdown(): Promise<void> {
    await this.#call('domainShutdown');
  }
  async reboot(): Promise<void> {
    await this.#call('domainReboot');
  }
  async destroy(): Promise<void> {
    await this.#call('domainDestroy');
  }
  /** Start a defined (inactive) domain. */
  async create(): Promise<void> {
    await this.#call('domainCreate');
  }
  async undefine(): Promise<void> {
    await this.#call('domainUndefine');
  }
  async getXMLDesc(flags?: XMLDescFlags): Promise<string> {
    return this.#call<string>('domainGetXMLDesc', checkFlags<XMLDescFlags>(flags, 'getXMLDesc flags', ['inactive']));
  }
  /** Set the current memory, KiB. */
  async setMemory(kib: number): Promise<void> {
    await this.#call('domainSetMemory', checkPositive(kib, 'memory (KiB)'));
  }
  /** Set the maximum memory, KiB. */
  async setMaxMemory(kib: number): Promise<void> {
    await this.#call('domainSetMaxMemory', checkPositive(kib, 'maximum memory (KiB)'));
  }
  async setVcpus(count: number): Promise<void> {
    await this.#call('domainSetVcpus', checkPositive(count, 'vcpu count', 4096));
  }
  async getVcpus(): Promise<VcpuInfo[]> {
    return this.#call<VcpuInfo[]>('domainGetVcpus');
  }
  /** Pin one vcpu to the physical CPUs listed (CPU numbers, e.g. [0, 2]). */
  async pinVcpu(vcpu: number, cpumap: number[]): Promise<void> {
    await this.#call('domainPinVcpu', checkUInt(vcpu, 'vcpu', 4095), checkCpuMap(cpumap));
  }
  async getAutostart(): Promise<boolean> {
    return this.#call<boolean>('domainGetAutostart');
  }
  async setAutostart(autostart: boolean): Promise<void> {
    await this.#call('domainSetAutostart', checkBoolean(autostart, 'autostart'));
  }
  /** Save the running domain's state to a file and stop it. */
  async save(path: string): Promise<void> {
    await this.#call('domainSave', checkString(path, 'save path'));
  }

  /** Write the domain's memory to a core file; the domain keeps running. */
  async coreDump(path: string): Promise<void> {
    await this.#call('domainCoreDump', checkString(path, 'core dump path'));
  }

  /** The domain's console (or the character device `devName`) as a Duplex: guest output in, keystrokes out. */
  async openConsole(devName?: string): Promise<import('node:stream').Duplex> {
    return callDriver(this.#state, 'domainOpenConsole', this.#ref, ...(devName === undefined ? [] : [checkString(devName, 'console device name')]));
  }

  toJSON(): DomainRef {
    return { ...this.#ref };
  }
}
