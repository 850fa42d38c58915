/**
 * The CLI's commands as data: name, usage, and a function from parsed arguments to
 * output (text for people, a value for --json). Modelled on virsh's command names.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import type { Connection } from '../connection.js';
import type { Domain } from '../domain-handle.js';
import type { Network } from '../network-handle.js';
import type { NativeFormat } from '../driver.js';
import { keyValues, table } from './table.js';

export interface ParsedArgs {
  positional: string[];
  flags: Set<string>;
}

export interface CommandResult {
  text: string;
  json: unknown;
}

export interface Command {
  name: string;
  usage: string;
  summary: string;
  /** Flags the command accepts (without the leading --). */
  flags?: string[];
  /** Number of positional arguments required. */
  args: number;
  /** Commands that need no connection (help). */
  noConnection?: boolean;
  run(conn: Connection, a: ParsedArgs): Promise<CommandResult>;
}

const MAX_INPUT = 16 * 1024 * 1024;

function usageError(message: string): VirError {
  return new VirError(message, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.NONE });
}

async function readInput(path: string): Promise<string> {
  // fs/promises loads only for commands that read a file (it costs a listing's start-up).
  const { readFile, stat } = await import('node:fs/promises');
  try {
    const st = await stat(path);
    if (!st.isFile()) throw usageError(`'${path}' is not a regular file`);
    if (st.size > MAX_INPUT) throw usageError(`'${path}' is too large (${st.size} bytes; the limit is ${MAX_INPUT})`);
    return await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof VirError) throw e;
    throw new VirError(`cannot read '${path}': ${(e as Error).message}`, { code: ErrorCode.READ_FAILED, domain: ErrorDomain.NONE });
  }
}

/** virsh's rule: a domain argument is tried as an id, then a UUID, then a name. */
async function findDomain(conn: Connection, ident: string): Promise<Domain> {
  if (/^\d+$/.test(ident) && Number(ident) <= 0x7fffffff) {
    try {
      return await conn.lookupDomainById(Number(ident));
    } catch (e) {
      if (!(e instanceof VirError) || e.code !== ErrorCode.NO_DOMAIN) throw e;
    }
  }
  if (/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(ident)) {
    try {
      return await conn.lookupDomainByUUID(ident);
    } catch (e) {
      if (!(e instanceof VirError) || e.code !== ErrorCode.NO_DOMAIN) throw e;
    }
  }
  return conn.lookupDomainByName(ident);
}

async function findNetwork(conn: Connection, ident: string): Promise<Network> {
  if (/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(ident)) {
    try {
      return await conn.lookupNetworkByUUID(ident);
    } catch (e) {
      if (!(e instanceof VirError) || e.code !== ErrorCode.NO_NETWORK) throw e;
    }
  }
  return conn.lookupNetworkByName(ident);
}

/** "0,2-3" → [0, 2, 3] */
export function parseCpuList(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw usageError(`malformed CPU list '${text}' (expected e.g. 0,2-3)`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi > 4095) throw usageError(`malformed CPU range '${part.trim()}' in '${text}'`);
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

function cpuListText(cpus: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function positiveInt(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw usageError(`${what} must be a positive integer, got '${text}'`);
  return Number(text);
}

/** Documents print with exactly one trailing newline, whatever the driver returned. */
const withNewline = (text: string): string => (text.endsWith('\n') ? text : text + '\n');

const done = (text: string, json: unknown = { ok: true }): CommandResult => ({ text, json });

/** A command that looks up a domain and calls one method on it. */
function domainAction(name: string, summary: string, verb: string, call: (d: Domain) => Promise<void>): Command {
  return {
    name,
    usage: `${name} DOMAIN`,
    summary,
    args: 1,
    async run(conn, a) {
      const d = await findDomain(conn, a.positional[0]!);
      await call(d);
      return done(`Domain '${d.name}' ${verb}\n`, { domain: d.name, result: verb });
    },
  };
}

/** A command that sets one numeric value on a domain (setmem, setmaxmem, setvcpus). */
function domainSetting(name: string, valueName: string, summary: string, what: string, set: (d: Domain, n: number) => Promise<void>): Command {
  return {
    name,
    usage: `${name} DOMAIN ${valueName}`,
    summary,
    args: 2,
    async run(conn, a) {
      const d = await findDomain(conn, a.positional[0]!);
      await set(d, positiveInt(a.positional[1]!, what));
      return done('');
    },
  };
}

function networkAction(name: string, summary: string, verb: string, call: (n: Network) => Promise<void>): Command {
  return {
    name,
    usage: `${name} NETWORK`,
    summary,
    args: 1,
    async run(conn, a) {
      const n = await findNetwork(conn, a.positional[0]!);
      await call(n);
      return done(`Network ${n.name} ${verb}\n`, { network: n.name, result: verb });
    },
  };
}

export const COMMANDS: Command[] = [
  {
    name: 'list',
    usage: 'list [--all | --inactive]',
    summary: 'list domains (running ones unless --all or --inactive)',
    flags: ['all', 'inactive'],
    args: 0,
    async run(conn, a) {
      const flags = a.flags.has('all') ? {} : a.flags.has('inactive') ? { inactive: true } : { active: true };
      // withInfo: drivers that can read every state in the list's own pass do so (one batch).
      const doms = await conn.listAllDomains({ ...flags, withInfo: true });
      const rows = await Promise.all(
        doms.map(async (d) => {
          const info = await d.getInfo();
          return { id: d.id, name: d.name, uuid: d.uuid, state: info.state };
        }),
      );
      // virsh order: running domains by id, then inactive ones by name.
      rows.sort((x, y) => (x.id === -1) === (y.id === -1) ? (x.id === -1 ? x.name.localeCompare(y.name) : x.id - y.id) : x.id === -1 ? 1 : -1);
      const stateText = (s: string) => (s === 'shutoff' ? 'shut off' : s);
      return {
        text: table(['Id', 'Name', 'State'], rows.map((r) => [r.id === -1 ? '-' : r.id, r.name, stateText(r.state)])),
        json: rows,
      };
    },
  },
  {
    name: 'console',
    usage: 'console DOMAIN',
    summary: 'attach to the guest console (Ctrl-] leaves)',
    args: 1,
    async run(conn, a) {
      const d = await findDomain(conn, a.positional[0]!);
      const { attachConsole } = await import('./console.js');
      await attachConsole(await d.openConsole(), d.name);
      return { text: '', json: null };
    },
  },
  {
    name: 'dominfo',
    usage: 'dominfo DOMAIN',
    summary: 'domain information',
    args: 1,
    async run(conn, a) {
      const d = await findDomain(conn, a.positional[0]!);
      const info = await d.getInfo();
      let autostart: boolean | undefined;
      try {
        autostart = await d.getAutostart();
      } catch (e) {
        if (!(e instanceof VirError) || (e.code !== ErrorCode.NO_SUPPORT && e.code !== ErrorCode.OPERATION_INVALID)) throw e;
      }
      const json = { id: d.id, name: d.name, uuid: d.uuid, ...info, ...(autostart === undefined ? {} : { autostart }) };
      const pairs: [string, string | number][] = [
        ['Id', d.id === -1 ? '-' : d.id],
        ['Name', d.name],
        ['UUID', d.uuid],
        ['State', info.state === 'shutoff' ? 'shut off' : info.state],
        ['CPU(s)', info.nrVirtCpu],
        ['CPU time', `${(info.cpuTime / 1e9).toFixed(1)}s`],
        ['Max memory', `${info.maxMem} KiB`],
        ['Used memory', `${info.memory} KiB`],
      ];
      if (autostart !== undefined) pairs.push(['Autostart', autostart ? 'enable' : 'disable']);
      return { text: keyValues(pairs), json };
    },
  },
  {
    name: 'dumpxml',
    usage: 'dumpxml DOMAIN [--inactive]',
    summary: 'domain XML',
    flags: ['inactive'],
    args: 1,
    async run(conn, a) {
      const d = await findDomain(conn, a.positional[0]!);
      const xml = await d.getXMLDesc({ inactive: a.flags.has('inactive') });
      return { text: withNewline(xml), json: { domain: d.name, xml } };
    },
  },
  {
    name: 'define',
    usage: 'define FILE',
    summary: 'define (but do not start) a domain from an XML file',
    args: 1,
    async run(conn, a) {
      const d = await conn.defineXML(await readInput(a.positional[0]!));
      return done(`Domain '${d.name}' defined from ${a.positional[0]}\n`, { domain: d.name, uuid: d.uuid });
    },
  },
  {
    name: 'create',
    usage: 'create FILE',
    summary: 'create and start a transient domain from an XML file',
    args: 1,
    async run(conn, a) {
      const d = await conn.createXML(await readInput(a.positional[0]!));
      return done(`Domain '${d.name}' created from ${a.positional[0]}\n`, { domain: d.name, uuid: d.uuid, id: d.id });
    },
  },
  domainAction('undefine', 'undefine a domain', 'has been undefined', (d) => d.undefine()),
  domainAction('start', 'start a defined domain', 'started', (d) => d.create()),
  domainAction('suspend', 'suspend (pause) a domain', 'suspended', (d) => d.suspend()),
  domainAction('resume', 'resume a suspended domain', 'resumed', (d) => d.resume()),
  domainAction('shutdown', 'gracefully shut a domain down', 'is being shutdown', (d) => d.shutdown()),
  domainAction('reboot', 'reboot a domain', 'is being rebooted', (d) => d.reboot()),
  domainAction('destroy', 'destroy (stop at once) a domain', 'destroyed', (d) => d.destroy()),
  domainSetting('setmem', 'KIB', 'set current memory (KiB)', 'memory', (d, n) => d.setMemory(n)),
  domainSetting('setmaxmem', 'KIB', 'set maximum memory (KiB)', 'memory', (d, n) => d.setMaxMemory(n)),
  domainSetting('setvcpus', 'COUNT', 'set the number of virtual CPUs', 'vcpu count', (d, n) => d.setVcpus(n)),
  {
    name: 'vcpuinfo',
    usage: 'vcpuinfo DOMAIN',
    summary: 'virtual CPU information',
    args: 1,
    async run(conn, a) {
      const d = await findDomain(conn, a.positional[0]!);
      const vcpus = await d.getVcpus();
      const text = vcpus
        .map((v) =>
          keyValues([
            ['VCPU', v.number],
            ['CPU', v.cpu < 0 ? '-' : v.cpu],
            ['State', v.state],
            ['CPU time', `${(v.cpuTime / 1e9).toFixed(1)}s`],
            ['CPU Affinity', cpuListText(v.cpumap)],
          ]),
        )
        .join('\n');
      return { text, json: vcpus };
    },
  },
  {
    name: 'vcpupin',
    usage: 'vcpupin DOMAIN VCPU CPULIST',
    summary: 'pin a virtual CPU to physical CPUs (e.g. 0,2-3)',
    args: 3,
    async run(conn, a) {
      const d = await findDomain(conn, a.positional[0]!);
      const vcpu = positiveInt(a.positional[1]!, 'vcpu');
      const cpus = parseCpuList(a.positional[2]!);
      await d.pinVcpu(vcpu, cpus);
      return done('', { domain: d.name, vcpu, cpumap: cpus });
    },
  },
  {
    name: 'autostart',
    usage: 'autostart DOMAIN [--disable]',
    summary: 'mark a domain to start when the host boots',
    flags: ['disable'],
    args: 1,
    async run(conn, a) {
      const d = await findDomain(conn, a.positional[0]!);
      const on = !a.flags.has('disable');
      await d.setAutostart(on);
      return done(`Domain '${d.name}' ${on ? 'marked as autostarted' : 'unmarked as autostarted'}\n`, { domain: d.name, autostart: on });
    },
  },
  {
    name: 'save',
    usage: 'save DOMAIN FILE',
    summary: "save a running domain's state to a file and stop it",
    args: 2,
    async run(conn, a) {
      const d = await findDomain(conn, a.positional[0]!);
      await d.save(a.positional[1]!);
      return done(`Domain '${d.name}' saved to ${a.positional[1]}\n`, { domain: d.name, file: a.positional[1] });
    },
  },
  {
    name: 'dump',
    usage: 'dump DOMAIN FILE',
    summary: "write a domain's memory to a core file",
    args: 2,
    async run(conn, a) {
      const d = await findDomain(conn, a.positional[0]!);
      await d.coreDump(a.positional[1]!);
      return done(`Domain '${d.name}' dumped to ${a.positional[1]}\n`, { domain: d.name, file: a.positional[1] });
    },
  },
  {
    name: 'restore',
    usage: 'restore FILE',
    summary: 'restore a domain from a saved state file',
    args: 1,
    async run(conn, a) {
      await conn.restore(a.positional[0]!);
      return done(`Domain restored from ${a.positional[0]}\n`, { file: a.positional[0] });
    },
  },
  {
    name: 'nodeinfo',
    usage: 'nodeinfo',
    summary: 'host information',
    args: 0,
    async run(conn) {
      const n = await conn.nodeGetInfo();
      return {
        text: keyValues([
          ['CPU model', n.model],
          ['CPU(s)', n.cpus],
          ['CPU frequency', `${n.mhz} MHz`],
          ['CPU socket(s)', n.sockets],
          ['Core(s) per socket', n.cores],
          ['Thread(s) per core', n.threads],
          ['NUMA cell(s)', n.nodes],
          ['Memory size', `${n.memory} KiB`],
        ]),
        json: n,
      };
    },
  },
  {
    name: 'capabilities',
    usage: 'capabilities',
    summary: 'capabilities XML of the host',
    args: 0,
    async run(conn) {
      const xml = await conn.getCapabilities();
      return { text: withNewline(xml), json: { xml } };
    },
  },
  {
    name: 'version',
    usage: 'version',
    summary: 'library and hypervisor versions',
    args: 0,
    async run(conn) {
      const { LIBRARY_VERSION } = await import('./version.js');
      const v = await conn.getVersion();
      const hv = `${Math.floor(v / 1e6)}.${Math.floor((v % 1e6) / 1e3)}.${v % 1e3}`;
      const type = conn.getType();
      return {
        text: `Compiled against library: xenvirt ${LIBRARY_VERSION}\nUsing library: xenvirt ${LIBRARY_VERSION}\nRunning hypervisor: ${type} ${hv}\n`,
        json: { library: LIBRARY_VERSION, hypervisor: { type, version: hv, raw: v } },
      };
    },
  },
  {
    name: 'uri',
    usage: 'uri',
    summary: 'the connection URI',
    args: 0,
    async run(conn) {
      return { text: conn.getURI() + '\n', json: { uri: conn.getURI() } };
    },
  },
  {
    name: 'hostname',
    usage: 'hostname',
    summary: "the host's name",
    args: 0,
    async run(conn) {
      const h = await conn.getHostname();
      return { text: h + '\n', json: { hostname: h } };
    },
  },
  {
    name: 'net-list',
    usage: 'net-list [--all | --inactive]',
    summary: 'list networks (active ones unless --all or --inactive)',
    flags: ['all', 'inactive'],
    args: 0,
    async run(conn, a) {
      const nets = await conn.listAllNetworks();
      const rows = await Promise.all(
        nets.map(async (n) => {
          const active = await n.isActive();
          let autostart = false; // the API has no network autostart yet
          return { name: n.name, uuid: n.uuid, active, autostart };
        }),
      );
      const shown = rows
        .filter((r) => (a.flags.has('all') ? true : a.flags.has('inactive') ? !r.active : r.active))
        .sort((x, y) => x.name.localeCompare(y.name));
      return {
        text: table(['Name', 'State', 'Autostart'], shown.map((r) => [r.name, r.active ? 'active' : 'inactive', r.autostart ? 'yes' : 'no'])),
        json: shown,
      };
    },
  },
  {
    name: 'net-info',
    usage: 'net-info NETWORK',
    summary: 'network information',
    args: 1,
    async run(conn, a) {
      const n = await findNetwork(conn, a.positional[0]!);
      const active = await n.isActive();
      const bridge = await n.getBridgeName();
      return {
        text: keyValues([
          ['Name', n.name],
          ['UUID', n.uuid],
          ['Active', active ? 'yes' : 'no'],
          ['Bridge', bridge],
        ]),
        json: { name: n.name, uuid: n.uuid, active, bridge },
      };
    },
  },
  {
    name: 'net-dumpxml',
    usage: 'net-dumpxml NETWORK',
    summary: 'network XML',
    args: 1,
    async run(conn, a) {
      const n = await findNetwork(conn, a.positional[0]!);
      const xml = await n.getXMLDesc();
      return { text: withNewline(xml), json: { network: n.name, xml } };
    },
  },
  {
    name: 'net-define',
    usage: 'net-define FILE',
    summary: 'define a network from an XML file',
    args: 1,
    async run(conn, a) {
      const n = await conn.networkDefineXML(await readInput(a.positional[0]!));
      return done(`Network ${n.name} defined from ${a.positional[0]}\n`, { network: n.name, uuid: n.uuid });
    },
  },
  networkAction('net-start', 'start a defined network', 'started', (n) => n.create()),
  networkAction('net-destroy', 'stop an active network', 'destroyed', (n) => n.destroy()),
  networkAction('net-undefine', 'undefine a network', 'has been undefined', (n) => n.undefine()),
  {
    name: 'domxml-from-native',
    usage: 'domxml-from-native FORMAT FILE',
    summary: 'convert a native config (xen-sxpr, xen-xm, xen-xl) to domain XML',
    args: 2,
    async run(conn, a) {
      const xml = await conn.domainXMLFromNative(a.positional[0] as NativeFormat, await readInput(a.positional[1]!));
      return { text: withNewline(xml), json: { xml } };
    },
  },
  {
    name: 'domxml-to-native',
    usage: 'domxml-to-native FORMAT FILE',
    summary: 'convert domain XML to a native config (xen-sxpr, xen-xm, xen-xl)',
    args: 2,
    async run(conn, a) {
      const text = await conn.domainXMLToNative(a.positional[0] as NativeFormat, await readInput(a.positional[1]!));
      return { text: withNewline(text), json: { config: text } };
    },
  },
];
