/**
 * A SIMULATED xend, for tests only: xend was removed from Xen in 4.5 and cannot run here.
 *
 * An HTTP server on a private unix socket that keeps domain state and answers the
 * subset of xend's HTTP interface xenvirt uses, in xend's S-expression format, for
 * config versions 1 to 4 (1–2: no managed domains and, for 1, no xend_config_format).
 * Faults can be injected per request: an `(xend.err …)` reply, an HTTP error status, a
 * slow reply, a connection dropped in the middle of a reply, or an unreadable body.
 * Every request is recorded so tests can check which route a call took.
 */
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { formatSexpr, parseSexpr, sexprChildren, sexprGet, type Sexpr, type SexprList } from '../../lib/convert/index.js';

export interface SimDomain {
  name: string;
  uuid: string;
  /** -1 while not running (managed domains only). */
  domid: number;
  memory: number; // MiB
  maxmem: number; // MiB
  vcpus: number;
  onlineVcpus: number;
  /** xend's state flags, e.g. '-b----' */
  state: string;
  cpuTime: number; // seconds
  kernel: string;
  /** Managed by xend (defined with op=new): survives shutdown as inactive. */
  managed: boolean;
  cpumaps: number[][];
  devices: SexprList[];
}

export interface SimRequest {
  method: string;
  path: string;
  form: Record<string, string>;
}

export type FaultKind = 'xend-err' | 'http-error' | 'slow' | 'drop' | 'garbage';
export interface Fault {
  /** Applies when the request path (without query) starts with this, e.g. '/xend/domain/guest1'. */
  path?: string;
  method?: 'GET' | 'POST';
  op?: string;
  kind: FaultKind;
  status?: number;
  message?: string;
  /** For 'slow': delay before the (normal) reply. */
  delayMs?: number;
  /** How many matching requests it affects (default: all until cleared). */
  times?: number;
}

export interface SimulatedXend {
  /** The unix socket path, or http://127.0.0.1:PORT when started with { tcp: true }. */
  readonly address: string;
  readonly socketPath: string;
  readonly dir: string;
  readonly configVersion: 1 | 2 | 3 | 4;
  readonly domains: Map<string, SimDomain>;
  readonly requests: SimRequest[];
  fault(f: Fault): void;
  clearFaults(): void;
  addDomain(d: Partial<SimDomain> & { name: string }): SimDomain;
  close(): Promise<void>;
}

const NODE_FACTS = {
  host: 'simhost',
  release: '2.6.18-xen',
  machine: 'x86_64',
  nr_cpus: 4,
  nr_nodes: 1,
  cores_per_socket: 2,
  threads_per_core: 1,
  cpu_mhz: 2400,
  total_memory: 4096,
  free_memory: 2048,
  xen_major: 3,
  xen_minor: 1,
  xen_extra: '.4',
};

function domainSexpr(d: SimDomain): SexprList {
  const e: SexprList = ['domain'];
  if (d.domid >= 0) e.push(['domid', String(d.domid)]);
  e.push(
    ['uuid', d.uuid],
    ['name', d.name],
    ['vcpus', String(d.vcpus)],
    ['online_vcpus', String(d.onlineVcpus)],
    ['memory', String(d.memory)],
    ['maxmem', String(d.maxmem)],
    ['on_poweroff', 'destroy'],
    ['on_reboot', 'restart'],
    ['on_crash', 'restart'],
    ['image', ['linux', ['kernel', d.kernel], ['args', 'console=hvc0']]],
  );
  for (const dev of d.devices) e.push(['device', dev]);
  if (d.domid >= 0) e.push(['state', d.state], ['cpu_time', d.cpuTime.toFixed(9)]);
  return e;
}

class XendOpError extends Error {
  constructor(
    message: string,
    readonly status = 500,
  ) {
    super(message);
  }
}

export async function startSimulatedXend(opts: { configVersion?: 1 | 2 | 3 | 4; tcp?: boolean } = {}): Promise<SimulatedXend> {
  const configVersion = opts.configVersion ?? 4;
  const dir = mkdtempSync(join(tmpdir(), 'simulated-xend-'));
  const socketPath = join(dir, 'xend-socket');
  const domains = new Map<string, SimDomain>();
  const requests: SimRequest[] = [];
  let faults: Fault[] = [];
  let nextDomid = 1;
  const managedOk = configVersion >= 3;

  const addDomain = (p: Partial<SimDomain> & { name: string }): SimDomain => {
    const d: SimDomain = {
      uuid: randomUUID(),
      domid: p.managed && p.domid === undefined ? -1 : nextDomid++,
      memory: 128,
      maxmem: 256,
      vcpus: 2,
      onlineVcpus: 2,
      state: '-b----',
      cpuTime: 1.25,
      kernel: '/boot/vmlinuz-xen',
      managed: false,
      cpumaps: [],
      devices: [['vbd', ['dev', 'xvda:disk'], ['uname', `file:/var/lib/xen/images/${p.name}.img`], ['mode', 'w']]],
      ...p,
    };
    if (d.cpumaps.length === 0) d.cpumaps = Array.from({ length: d.vcpus }, () => [0, 1, 2, 3]);
    domains.set(d.name, d);
    return d;
  };

  const find = (key: string): SimDomain | undefined => {
    const byName = domains.get(key);
    if (byName) return byName;
    if (/^\d+$/.test(key)) for (const d of domains.values()) if (d.domid === Number(key)) return d;
    return undefined;
  };

  const running = (d: SimDomain) => {
    if (d.domid < 0) throw new XendOpError(`Domain '${d.name}' is not running`);
  };

  const stop = (d: SimDomain) => {
    if (d.managed) {
      d.domid = -1;
      d.state = '------';
    } else domains.delete(d.name);
  };

  const fromConfig = (config: string | undefined, managed: boolean): SimDomain => {
    if (!config) throw new XendOpError('Missing config');
    let vm: Sexpr;
    try {
      vm = parseSexpr(config);
    } catch (e) {
      throw new XendOpError(`Invalid configuration ${(e as Error).message}`);
    }
    const name = sexprGet(vm, 'name');
    if (!name) throw new XendOpError('Configuration error: domain name missing');
    if (domains.has(name)) throw new XendOpError(`Domain '${name}' already exists`);
    const memory = Number(sexprGet(vm, 'memory') ?? '128');
    const vcpus = Number(sexprGet(vm, 'vcpus') ?? '1');
    const devices = sexprChildren(vm, 'device').map((dv) => dv[1]).filter((x): x is SexprList => Array.isArray(x));
    return addDomain({
      name,
      uuid: sexprGet(vm, 'uuid') ?? randomUUID(),
      memory,
      maxmem: Number(sexprGet(vm, 'maxmem') ?? String(memory)),
      vcpus,
      onlineVcpus: vcpus,
      managed,
      ...(managed ? { domid: -1, state: '------' } : {}),
      devices,
    });
  };

  const domainOp = (d: SimDomain, op: string, f: Record<string, string>): Sexpr | undefined => {
    switch (op) {
      case 'pause':
        running(d);
        d.state = '--p---';
        return undefined;
      case 'unpause':
        running(d);
        d.state = '-b----';
        return undefined;
      case 'shutdown':
        running(d);
        if (!['poweroff', 'halt', 'reboot', 'suspend'].includes(f.reason ?? '')) throw new XendOpError(`Invalid shutdown reason '${f.reason}'`);
        if (f.reason === 'reboot') d.cpuTime = 0;
        else stop(d);
        return undefined;
      case 'destroy':
        running(d);
        stop(d);
        return undefined;
      case 'mem_target_set': {
        const t = Number(f.target);
        if (!Number.isInteger(t) || t <= 0) throw new XendOpError(`Invalid target '${f.target}'`);
        if (t > d.maxmem) throw new XendOpError(`memory target ${t} above maximum ${d.maxmem}`);
        d.memory = t;
        return undefined;
      }
      case 'maxmem_set': {
        const m = Number(f.memory);
        if (!Number.isInteger(m) || m <= 0) throw new XendOpError(`Invalid memory '${f.memory}'`);
        d.maxmem = m;
        return undefined;
      }
      case 'set_vcpus': {
        const n = Number(f.vcpus);
        if (!Number.isInteger(n) || n < 1 || n > d.vcpus) throw new XendOpError(`Cannot set vcpus to ${f.vcpus}: maximum is ${d.vcpus}`);
        d.onlineVcpus = n;
        return undefined;
      }
      case 'pincpu': {
        const v = Number(f.vcpu);
        const m = /^\[([\d,]+)\]$/.exec(f.cpumap ?? '');
        if (!Number.isInteger(v) || v < 0 || v >= d.vcpus || !m) throw new XendOpError(`Invalid pincpu arguments vcpu=${f.vcpu} cpumap=${f.cpumap}`);
        d.cpumaps[v] = m[1]!.split(',').map(Number);
        return undefined;
      }
      case 'save':
        running(d);
        if (!f.file) throw new XendOpError('Missing file');
        writeFileSync(f.file, 'SIMULATED-XEND-SAVE\n' + formatSexpr(domainSexpr(d)));
        stop(d);
        return undefined;
      case 'dump':
        running(d);
        if (!f.file) throw new XendOpError('Missing file');
        writeFileSync(f.file, `SIMULATED-XEND-CORE ${d.name} live=${f.live} crash=${f.crash}\n`);
        if (f.crash === '1') stop(d);
        return undefined;
      case 'device_create': {
        running(d);
        let dev: Sexpr;
        try {
          dev = parseSexpr(f.config ?? '');
        } catch (e) {
          throw new XendOpError(`Invalid device config: ${(e as Error).message}`);
        }
        if (!Array.isArray(dev) || typeof dev[0] !== 'string') throw new XendOpError('Invalid device config');
        d.devices.push(dev);
        return undefined;
      }
      case 'device_destroy': {
        const i = d.devices.findIndex((dv) => dv[0] === f.type && (sexprGet(dv, 'dev') ?? '').split(':')[0] === f.dev);
        if (i < 0) throw new XendOpError(`Device ${f.dev} not connected`);
        d.devices.splice(i, 1);
        return undefined;
      }
      case 'migrate':
        running(d);
        if (!f.destination) throw new XendOpError('Missing destination');
        domains.delete(d.name);
        return undefined;
      case 'start':
        if (!managedOk) throw new XendOpError('Invalid operation: start', 400);
        if (d.domid >= 0) throw new XendOpError(`Domain '${d.name}' is already running`);
        d.domid = nextDomid++;
        d.state = '-b----';
        return undefined;
      case 'delete':
        if (!managedOk) throw new XendOpError('Invalid operation: delete', 400);
        if (d.domid >= 0) throw new XendOpError(`Domain '${d.name}' is running`);
        domains.delete(d.name);
        return undefined;
      default:
        throw new XendOpError(`Invalid operation: ${op}`, 400);
    }
  };

  const handle = (method: string, url: URL, f: Record<string, string>): { status: number; body: Sexpr | undefined } => {
    const path = url.pathname;
    if (method === 'GET' && path === '/xend/node/') {
      const node: SexprList = ['node'];
      for (const [k, v] of Object.entries(NODE_FACTS)) node.push([k, String(v)]);
      node.push(['xen_caps', 'xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64']);
      if (configVersion >= 2) node.push(['xend_config_format', String(configVersion)]);
      return { status: 200, body: node };
    }
    if (path === '/xend/domain' || path === '/xend/domain/') {
      if (method === 'GET') {
        const active = [...domains.values()].filter((d) => d.domid >= 0);
        if (url.searchParams.get('detail') === '1') return { status: 200, body: active.map(domainSexpr) };
        // xend before config version 3 ignores the state filter and lists running domains.
        if (managedOk && url.searchParams.get('state') === 'halted') {
          return { status: 200, body: [...domains.values()].filter((d) => d.domid < 0).map((d) => d.name) };
        }
        return { status: 200, body: active.map((d) => d.name) };
      }
      switch (f.op) {
        case 'create':
          return { status: 201, body: domainSexpr(fromConfig(f.config, false)) };
        case 'new':
          if (!managedOk) throw new XendOpError('Invalid operation: new', 400);
          fromConfig(f.config, true);
          return { status: 200, body: undefined };
        case 'restore': {
          let text: string;
          try {
            text = readFileSync(f.file ?? '', 'utf8');
          } catch (e) {
            throw new XendOpError(`Restore failed: ${(e as Error).message}`);
          }
          if (!text.startsWith('SIMULATED-XEND-SAVE\n')) throw new XendOpError('Restore failed: not a save file');
          const saved = parseSexpr(text.slice(text.indexOf('\n') + 1));
          const name = sexprGet(saved, 'name')!;
          const old = domains.get(name);
          if (old && old.domid >= 0) throw new XendOpError(`Domain '${name}' already running`);
          if (old) old.domid = nextDomid++;
          const d =
            old ??
            addDomain({
              name,
              uuid: sexprGet(saved, 'uuid')!,
              memory: Number(sexprGet(saved, 'memory')),
              maxmem: Number(sexprGet(saved, 'maxmem')),
            });
          d.state = '-b----';
          return { status: 201, body: domainSexpr(d) };
        }
        default:
          throw new XendOpError(`Invalid operation: ${f.op}`, 400);
      }
    }
    const m = /^\/xend\/domain\/([^/]+)$/.exec(path);
    if (m) {
      const d = find(decodeURIComponent(m[1]!));
      if (!d) return { status: 404, body: ['xend.err', `Domain not found: ${decodeURIComponent(m[1]!)}`] };
      if (method === 'GET') {
        if (url.searchParams.get('op') === 'vcpuinfo') {
          return {
            status: 200,
            body: Array.from({ length: d.vcpus }, (_, i): SexprList => [
              'vcpu',
              ['number', String(i)],
              ['online', i < d.onlineVcpus ? '1' : '0'],
              ['blocked', '1'],
              ['running', '0'],
              ['cpu_time', '0.5'],
              ['cpu', String(i % 4)],
              ['cpumap', d.cpumaps[i]!.map(String)],
            ]),
          };
        }
        return { status: 200, body: domainSexpr(d) };
      }
      const out = domainOp(d, f.op ?? '', f);
      return { status: ['shutdown', 'destroy', 'save', 'dump', 'start', 'delete'].includes(f.op ?? '') ? 202 : 200, body: out };
    }
    return { status: 404, body: ['xend.err', `No such resource: ${path}`] };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://xend');
      const form: Record<string, string> = {};
      if (req.method === 'POST') for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) form[k] = v;
      requests.push({ method: req.method ?? '', path: req.url ?? '', form });

      const fault = faults.find(
        (x) => (!x.path || url.pathname.startsWith(x.path)) && (!x.method || x.method === req.method) && (!x.op || x.op === form.op),
      );
      if (fault && fault.times !== undefined && --fault.times <= 0) faults = faults.filter((x) => x !== fault);

      const reply = () => {
        let status: number;
        let body: string;
        try {
          const r = handle(req.method ?? 'GET', url, form);
          status = r.status;
          body = r.body === undefined ? '' : formatSexpr(r.body);
        } catch (e) {
          if (!(e instanceof XendOpError)) throw e;
          status = e.status;
          body = formatSexpr(['xend.err', e.message]);
        }
        res.writeHead(status, { 'Content-Type': 'application/sxp', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (!fault) return reply();
      switch (fault.kind) {
        case 'xend-err': {
          // xend's own failure report: HTTP 200 with an (xend.err …) body.
          const body = formatSexpr(['xend.err', fault.message ?? 'simulated xend failure']);
          res.writeHead(200, { 'Content-Type': 'application/sxp', 'Content-Length': Buffer.byteLength(body) });
          res.end(body);
          return;
        }
        case 'http-error': {
          const body = fault.message ?? 'Internal Server Error';
          res.writeHead(fault.status ?? 500, { 'Content-Length': Buffer.byteLength(body) });
          res.end(body);
          return;
        }
        case 'slow':
          setTimeout(reply, fault.delayMs ?? 1000);
          return;
        case 'drop':
          // Promise a long body, send part of it, then cut the connection.
          res.writeHead(200, { 'Content-Type': 'application/sxp', 'Content-Length': 4096 });
          res.write('(domain (domid 1) (name ', () => setImmediate(() => res.socket?.destroy()));
          return;
        case 'garbage': {
          const body = fault.message ?? '(domain (name unterminated';
          res.writeHead(200, { 'Content-Length': Buffer.byteLength(body) });
          res.end(body);
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (opts.tcp) server.listen(0, '127.0.0.1', () => resolve());
    else server.listen(socketPath, () => resolve());
  });
  const addr = server.address();
  const address = typeof addr === 'object' && addr ? `http://127.0.0.1:${addr.port}` : socketPath;

  return {
    address,
    socketPath,
    dir,
    configVersion,
    domains,
    requests,
    fault: (f) => faults.push({ ...f }),
    clearFaults: () => {
      faults = [];
    },
    addDomain,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
