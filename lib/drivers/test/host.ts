/**
 * The in-memory host behind a `test:` connection: domains and networks with the state
 * transitions a real host would make. One TestHost per connection, so tests never see
 * each other's changes.
 */
import type { EventEmitter } from 'node:events';
import { VirError, ErrorCode, ErrorDomain } from '../../errors.js';
import type { DomainInfo, DomainRef, DomainState, NetworkRef, NodeInfo, VcpuInfo } from '../../driver.js';
import { parseDomainXML, formatDomainXML, type DomainDef } from '../../domain/index.js';
import { parseNetworkXML, formatNetworkXML, type NetworkDef } from '../../network/model.js';

const FROM = ErrorDomain.TEST;

function err(code: string, message: string): VirError {
  return new VirError(message, { code, domain: FROM });
}

interface TestDomain {
  def: DomainDef;
  /** Defined (survives shutdown) or transient (gone once it stops). */
  persistent: boolean;
  state: DomainState;
  id: number;
  autostart: boolean;
  /** CPU time accumulated before the current run, ns. */
  cpuTimeNs: number;
  /** When the current run started (ms since epoch), while running. */
  runningSince: number | undefined;
  /** Pinning per vcpu; absent means every host CPU. */
  pins: Map<number, number[]>;
}

interface TestNetwork {
  def: NetworkDef;
  persistent: boolean;
  active: boolean;
}

export interface HostDescription {
  nodeInfo: NodeInfo;
  hostname: string;
  /** Domains that start running. */
  domains: string[];
  /** Networks that start active. */
  networks: string[];
}

export class TestHost {
  readonly nodeInfo: NodeInfo;
  readonly hostname: string;
  #domains: TestDomain[] = [];
  #networks: TestNetwork[] = [];
  #nextId = 1;
  #nextBridge = 0;
  #events: EventEmitter | undefined;

  constructor(desc: HostDescription, events?: EventEmitter) {
    this.nodeInfo = desc.nodeInfo;
    this.hostname = desc.hostname;
    for (const xml of desc.domains) {
      const d = this.#define(xml, true);
      this.#start(d);
    }
    for (const xml of desc.networks) {
      const n = this.networkDefine(xml);
      this.#networkFind(n).active = true;
    }
    this.#events = events;
  }

  // ---- domains ---------------------------------------------------------------------

  #ref(d: TestDomain): DomainRef {
    return { name: d.def.name, uuid: d.def.uuid, id: d.id };
  }

  #emit(d: TestDomain, event: string, detail?: string): void {
    this.#events?.emit('domain-event', { domain: this.#ref(d), event, ...(detail ? { detail } : {}) });
  }

  #find(ref: DomainRef): TestDomain {
    const d = this.#domains.find((x) => x.def.uuid === ref.uuid);
    if (!d) throw err(ErrorCode.NO_DOMAIN, `Domain not found: no domain with matching uuid '${ref.uuid}' (${ref.name})`);
    return d;
  }

  #isActive(d: TestDomain): boolean {
    return d.state !== 'shutoff';
  }

  #requireActive(d: TestDomain): void {
    if (!this.#isActive(d)) throw err(ErrorCode.OPERATION_INVALID, `Requested operation is not valid: domain '${d.def.name}' is not running`);
  }

  #accountCpu(d: TestDomain): void {
    if (d.runningSince !== undefined) {
      d.cpuTimeNs += (Date.now() - d.runningSince) * 1e6;
      d.runningSince = undefined;
    }
  }

  #start(d: TestDomain): void {
    d.id = this.#nextId++;
    d.state = 'running';
    d.runningSince = Date.now();
  }

  /** Stop a domain; a transient one disappears. */
  #stop(d: TestDomain, event: string): void {
    this.#accountCpu(d);
    this.#emit(d, 'stopped', event);
    d.state = 'shutoff';
    d.id = -1;
    d.pins.clear();
    if (!d.persistent) this.#domains = this.#domains.filter((x) => x !== d);
  }

  #define(xml: string, persistent: boolean): TestDomain {
    const def = parseDomainXML(xml, { inactive: true });
    const byName = this.#domains.find((x) => x.def.name === def.name);
    const byUUID = this.#domains.find((x) => x.def.uuid === def.uuid);
    if (byName && byName.def.uuid !== def.uuid) {
      throw err(ErrorCode.OPERATION_FAILED, `operation failed: domain '${def.name}' is already defined with uuid ${byName.def.uuid}`);
    }
    if (byUUID && byUUID.def.name !== def.name) {
      throw err(ErrorCode.OPERATION_FAILED, `operation failed: domain '${byUUID.def.name}' already exists with uuid ${def.uuid}`);
    }
    if (byName) {
      if (!persistent) {
        throw err(ErrorCode.OPERATION_INVALID, `Requested operation is not valid: domain '${def.name}' already exists`);
      }
      // Redefining keeps the running instance; the new definition is what it boots next.
      byName.def = { ...def, id: byName.id };
      byName.persistent = true;
      return byName;
    }
    const d: TestDomain = {
      def,
      persistent,
      state: 'shutoff',
      id: -1,
      autostart: false,
      cpuTimeNs: 0,
      runningSince: undefined,
      pins: new Map(),
    };
    this.#domains.push(d);
    return d;
  }

  listDomains(flags: { active?: boolean; inactive?: boolean; withInfo?: boolean }): DomainRef[] {
    const wantActive = flags.active ?? !flags.inactive;
    const wantInactive = flags.inactive ?? !flags.active;
    return this.#domains
      .filter((d) => (this.#isActive(d) ? wantActive : wantInactive))
      .map((d) => {
        const ref = this.#ref(d);
        // withInfo: the same pass reads each domain's info, as a real driver's one batch would.
        return flags.withInfo ? { ...ref, info: this.info(ref) } : ref;
      });
  }

  lookupByName(name: string): DomainRef {
    const d = this.#domains.find((x) => x.def.name === name);
    if (!d) throw err(ErrorCode.NO_DOMAIN, `Domain not found: no domain with matching name '${name}'`);
    return this.#ref(d);
  }
  lookupById(id: number): DomainRef {
    const d = this.#domains.find((x) => x.id === id && this.#isActive(x));
    if (!d) throw err(ErrorCode.NO_DOMAIN, `Domain not found: no domain with matching id ${id}`);
    return this.#ref(d);
  }
  lookupByUUID(uuid: string): DomainRef {
    const d = this.#domains.find((x) => x.def.uuid === uuid);
    if (!d) throw err(ErrorCode.NO_DOMAIN, `Domain not found: no domain with matching uuid '${uuid}'`);
    return this.#ref(d);
  }

  defineXML(xml: string): DomainRef {
    const d = this.#define(xml, true);
    this.#emit(d, 'defined');
    return this.#ref(d);
  }

  createXML(xml: string): DomainRef {
    const d = this.#define(xml, false);
    this.#start(d);
    this.#emit(d, 'started');
    return this.#ref(d);
  }

  info(ref: DomainRef): DomainInfo {
    const d = this.#find(ref);
    const running = d.runningSince !== undefined ? (Date.now() - d.runningSince) * 1e6 : 0;
    return {
      state: d.state,
      maxMem: d.def.memory,
      memory: d.def.currentMemory,
      nrVirtCpu: d.def.vcpus,
      cpuTime: d.cpuTimeNs + running,
    };
  }

  suspend(ref: DomainRef): DomainRef {
    const d = this.#find(ref);
    this.#requireActive(d);
    if (d.state === 'paused') throw err(ErrorCode.OPERATION_INVALID, `Requested operation is not valid: domain '${d.def.name}' is already paused`);
    this.#accountCpu(d);
    d.state = 'paused';
    this.#emit(d, 'suspended');
    return this.#ref(d);
  }

  resume(ref: DomainRef): DomainRef {
    const d = this.#find(ref);
    if (d.state !== 'paused') throw err(ErrorCode.OPERATION_INVALID, `Requested operation is not valid: domain '${d.def.name}' is not paused`);
    d.state = 'running';
    d.runningSince = Date.now();
    this.#emit(d, 'resumed');
    return this.#ref(d);
  }

  shutdown(ref: DomainRef): DomainRef {
    const d = this.#find(ref);
    this.#requireActive(d);
    this.#stop(d, 'shutdown');
    return this.#ref(d);
  }

  reboot(ref: DomainRef): DomainRef {
    const d = this.#find(ref);
    this.#requireActive(d);
    this.#emit(d, 'rebooted');
    return this.#ref(d);
  }

  destroy(ref: DomainRef): DomainRef {
    const d = this.#find(ref);
    this.#requireActive(d);
    this.#stop(d, 'destroyed');
    return this.#ref(d);
  }

  create(ref: DomainRef): DomainRef {
    const d = this.#find(ref);
    if (this.#isActive(d)) throw err(ErrorCode.OPERATION_INVALID, `Requested operation is not valid: domain '${d.def.name}' is already running`);
    this.#start(d);
    this.#emit(d, 'started');
    return this.#ref(d);
  }

  undefine(ref: DomainRef): DomainRef {
    const d = this.#find(ref);
    if (!d.persistent) throw err(ErrorCode.OPERATION_INVALID, `Requested operation is not valid: cannot undefine transient domain '${d.def.name}'`);
    if (this.#isActive(d)) {
      d.persistent = false; // keeps running; gone when it stops
      d.autostart = false;
    } else {
      this.#domains = this.#domains.filter((x) => x !== d);
    }
    this.#emit(d, 'undefined');
    return this.#ref(d);
  }

  xmlDesc(ref: DomainRef, inactive: boolean): string {
    const d = this.#find(ref);
    const live = !inactive && this.#isActive(d);
    return formatDomainXML({ ...d.def, id: live ? d.id : -1 }, { inactive: !live });
  }

  setMemory(ref: DomainRef, kib: number): void {
    const d = this.#find(ref);
    if (kib > d.def.memory) {
      throw err(ErrorCode.INVALID_ARG, `invalid argument: cannot set memory (${kib} KiB) higher than the maximum (${d.def.memory} KiB)`);
    }
    d.def = { ...d.def, currentMemory: kib };
  }

  setMaxMemory(ref: DomainRef, kib: number): void {
    const d = this.#find(ref);
    if (kib > this.nodeInfo.memory) {
      throw err(ErrorCode.INVALID_ARG, `invalid argument: maximum memory ${kib} KiB exceeds the host's ${this.nodeInfo.memory} KiB`);
    }
    d.def = { ...d.def, memory: kib, currentMemory: Math.min(d.def.currentMemory, kib) };
  }

  setVcpus(ref: DomainRef, count: number): void {
    const d = this.#find(ref);
    if (count > this.nodeInfo.cpus) {
      throw err(ErrorCode.INVALID_ARG, `invalid argument: requested vcpus (${count}) is greater than the host's ${this.nodeInfo.cpus} CPUs`);
    }
    d.def = { ...d.def, vcpus: count };
    for (const v of [...d.pins.keys()]) if (v >= count) d.pins.delete(v);
  }

  #allCpus(): number[] {
    return Array.from({ length: this.nodeInfo.cpus }, (_, i) => i);
  }

  vcpus(ref: DomainRef): VcpuInfo[] {
    const d = this.#find(ref);
    this.#requireActive(d);
    const total = this.info(ref).cpuTime;
    return Array.from({ length: d.def.vcpus }, (_, n) => {
      const cpumap = d.pins.get(n) ?? this.#allCpus();
      return {
        number: n,
        state: d.state === 'running' ? ('running' as const) : ('blocked' as const),
        cpuTime: Math.floor(total / d.def.vcpus),
        cpu: d.state === 'running' ? cpumap[n % cpumap.length]! : -1,
        cpumap,
      };
    });
  }

  pinVcpu(ref: DomainRef, vcpu: number, cpumap: number[]): void {
    const d = this.#find(ref);
    this.#requireActive(d);
    if (vcpu >= d.def.vcpus) throw err(ErrorCode.INVALID_ARG, `invalid argument: vcpu ${vcpu} does not exist (domain has ${d.def.vcpus})`);
    const outside = cpumap.find((c) => c >= this.nodeInfo.cpus);
    if (outside !== undefined) throw err(ErrorCode.INVALID_ARG, `invalid argument: CPU ${outside} does not exist (host has ${this.nodeInfo.cpus})`);
    d.pins.set(vcpu, [...cpumap]);
  }

  getAutostart(ref: DomainRef): boolean {
    return this.#find(ref).autostart;
  }

  setAutostart(ref: DomainRef, on: boolean): void {
    const d = this.#find(ref);
    if (!d.persistent) throw err(ErrorCode.OPERATION_INVALID, `Requested operation is not valid: cannot set autostart for transient domain '${d.def.name}'`);
    d.autostart = on;
  }

  /** Stop the domain for a save; returns the XML to store. */
  saveState(ref: DomainRef): { xml: string; state: DomainState } {
    const d = this.#find(ref);
    this.#requireActive(d);
    const xml = formatDomainXML({ ...d.def, id: -1 }, { inactive: true });
    return { xml, state: d.state };
  }

  finishSave(ref: DomainRef): DomainRef {
    const d = this.#find(ref);
    this.#stop(d, 'saved');
    return this.#ref(d);
  }

  restoreState(xml: string, state: DomainState): DomainRef {
    const def = parseDomainXML(xml, { inactive: true });
    const existing = this.#domains.find((x) => x.def.uuid === def.uuid || x.def.name === def.name);
    if (existing && this.#isActive(existing)) {
      throw err(ErrorCode.OPERATION_INVALID, `Requested operation is not valid: domain '${existing.def.name}' is already running`);
    }
    const d = existing ?? this.#define(xml, false);
    this.#start(d);
    if (state === 'paused') {
      this.#accountCpu(d);
      d.state = 'paused';
    }
    this.#emit(d, 'started', 'restored');
    return this.#ref(d);
  }

  // ---- networks --------------------------------------------------------------------

  #netRef(n: TestNetwork): NetworkRef {
    return { name: n.def.name, uuid: n.def.uuid };
  }

  #networkFind(ref: NetworkRef): TestNetwork {
    const n = this.#networks.find((x) => x.def.uuid === ref.uuid);
    if (!n) throw err(ErrorCode.NO_NETWORK, `Network not found: no network with matching uuid '${ref.uuid}' (${ref.name})`);
    return n;
  }

  listNetworks(): NetworkRef[] {
    return this.#networks.map((n) => this.#netRef(n));
  }

  networkLookupByName(name: string): NetworkRef {
    const n = this.#networks.find((x) => x.def.name === name);
    if (!n) throw err(ErrorCode.NO_NETWORK, `Network not found: no network with matching name '${name}'`);
    return this.#netRef(n);
  }

  networkLookupByUUID(uuid: string): NetworkRef {
    const n = this.#networks.find((x) => x.def.uuid === uuid);
    if (!n) throw err(ErrorCode.NO_NETWORK, `Network not found: no network with matching uuid '${uuid}'`);
    return this.#netRef(n);
  }

  networkDefine(xml: string): NetworkRef {
    const def = parseNetworkXML(xml);
    const byName = this.#networks.find((x) => x.def.name === def.name);
    const byUUID = this.#networks.find((x) => x.def.uuid === def.uuid);
    if (byName && byName.def.uuid !== def.uuid) {
      throw err(ErrorCode.OPERATION_FAILED, `operation failed: network '${def.name}' is already defined with uuid ${byName.def.uuid}`);
    }
    if (byUUID && byUUID.def.name !== def.name) {
      throw err(ErrorCode.OPERATION_FAILED, `operation failed: network '${byUUID.def.name}' already exists with uuid ${def.uuid}`);
    }
    if (!def.bridge?.name) {
      // As libvirt does: give the network the first free virbrN.
      const used = new Set(this.#networks.map((x) => x.def.bridge?.name));
      let name: string;
      do name = `virbr${this.#nextBridge++}`;
      while (used.has(name));
      def.bridge = { ...def.bridge, name };
    }
    if (byName) {
      byName.def = def;
      byName.persistent = true;
      return this.#netRef(byName);
    }
    const n: TestNetwork = { def, persistent: true, active: false };
    this.#networks.push(n);
    return this.#netRef(n);
  }

  networkCreate(ref: NetworkRef): void {
    const n = this.#networkFind(ref);
    if (n.active) throw err(ErrorCode.OPERATION_INVALID, `Requested operation is not valid: network '${n.def.name}' is already active`);
    n.active = true;
  }

  networkDestroy(ref: NetworkRef): void {
    const n = this.#networkFind(ref);
    if (!n.active) throw err(ErrorCode.OPERATION_INVALID, `Requested operation is not valid: network '${n.def.name}' is not active`);
    n.active = false;
    if (!n.persistent) this.#networks = this.#networks.filter((x) => x !== n);
  }

  networkUndefine(ref: NetworkRef): void {
    const n = this.#networkFind(ref);
    if (n.active) {
      n.persistent = false;
      return;
    }
    this.#networks = this.#networks.filter((x) => x !== n);
  }

  networkXML(ref: NetworkRef): string {
    return formatNetworkXML(this.#networkFind(ref).def);
  }

  networkBridge(ref: NetworkRef): string {
    return this.#networkFind(ref).def.bridge?.name ?? '';
  }

  networkIsActive(ref: NetworkRef): boolean {
    return this.#networkFind(ref).active;
  }
}
