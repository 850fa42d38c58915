/**
 * libvirt's remote URIs, `driver[+transport]://[user@][host][:port]/path[?…]`: which transport
 * to use, where to reach the daemon, which parameters the client keeps for itself, and the
 * URI the daemon is asked to open (facts from libvirt's remote driver and its URI docs).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, virError } from '../errors.js';

/** The transports this client implements (libssh/libssh2 URIs go through the system ssh). */
export type RemoteTransportName = 'unix' | 'tcp' | 'tls' | 'ssh' | 'ext';

const TRANSPORT_ALIASES: Record<string, RemoteTransportName> = {
  unix: 'unix',
  tcp: 'tcp',
  tls: 'tls',
  ssh: 'ssh',
  libssh: 'ssh',
  libssh2: 'ssh',
  ext: 'ext',
};

/** libvirt's default daemon ports. */
export const DEFAULT_TCP_PORT = 16509;
export const DEFAULT_TLS_PORT = 16514;

/**
 * Query parameters that configure the client and are not passed on to the daemon
 * (libvirt compares their names case-insensitively).
 */
export const CLIENT_ONLY_PARAMS = [
  'name', 'command', 'socket', 'auth', 'sshauth', 'netcat', 'keyfile', 'pkipath', 'known_hosts',
  'known_hosts_verify', 'tls_priority', 'mode', 'proxy', 'no_sanity', 'no_verify', 'no_tty', 'authfile',
] as const;
type ClientParamName = (typeof CLIENT_ONLY_PARAMS)[number];

/** How a unix socket is chosen: the modular daemon's, the monolithic libvirtd's, or whichever exists. */
export type SocketMode = 'auto' | 'legacy' | 'direct';
/** What runs on the far side of an ssh connection. */
export type SshProxy = 'auto' | 'native' | 'netcat';

export interface RemoteClientParams {
  socket?: string;
  command?: string;
  keyfile?: string;
  pkipath?: string;
  netcat?: string;
  auth?: string;
  knownHosts?: string;
  tlsPriority?: string;
  mode?: SocketMode;
  proxy?: SshProxy;
  /** `no_verify=1`: accept the TLS server certificate without checking it. */
  noVerify: boolean;
  /** `no_tty=1`: ssh must not ask for a password on the terminal. */
  noTty: boolean;
  noSanity: boolean;
}

export interface RemoteTarget {
  /** The URI as given. */
  uri: string;
  /** The whole scheme, e.g. `qemu+ssh`. */
  scheme: string;
  /** The scheme's driver part, e.g. `qemu` (`remote` means "let the daemon choose"). */
  driver: string;
  transport: RemoteTransportName;
  /** The transport as spelled in the URI when it was an alias (libssh, libssh2). */
  transportSpelling?: string;
  user?: string;
  /** Host name or address, without the brackets of an IPv6 literal. */
  host?: string;
  port?: number;
  /** The path, e.g. `/system`, `/session`, `/default`; '' when the URI has none. */
  path: string;
  /** Every query parameter, client-only ones included. */
  params: URLSearchParams;
  client: RemoteClientParams;
  /** The URI the daemon is asked to open ('' lets it pick its default). */
  remoteName: string;
}

const FROM_REMOTE = 'VIR_FROM_REMOTE';

function invalid(message: string): never {
  throw virError(ErrorCode.INVALID_ARG, FROM_REMOTE, message);
}

function truthy(value: string | undefined): boolean {
  // libvirt reads these as integers: any non-zero number is true.
  if (value === undefined) return false;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) invalid(`URI parameter expects an integer, got '${value}'`);
  return n !== 0;
}

function clientParam(params: URLSearchParams, name: ClientParamName): string | undefined {
  let found: string | undefined;
  for (const [key, value] of params) if (key.toLowerCase() === name) found = value; // the last one wins
  return found;
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) invalid(`URI parameter ${name}='${value}' is not one of ${allowed.join(', ')}`);
  return value as T;
}

function readClientParams(params: URLSearchParams): RemoteClientParams {
  const get = (name: ClientParamName) => clientParam(params, name);
  const client: RemoteClientParams = {
    noVerify: truthy(get('no_verify')),
    noTty: truthy(get('no_tty')),
    noSanity: truthy(get('no_sanity')),
  };
  const strings: [keyof RemoteClientParams, ClientParamName][] = [
    ['socket', 'socket'], ['command', 'command'], ['keyfile', 'keyfile'], ['pkipath', 'pkipath'],
    ['netcat', 'netcat'], ['auth', 'auth'], ['knownHosts', 'known_hosts'], ['tlsPriority', 'tls_priority'],
  ];
  for (const [field, name] of strings) {
    const value = get(name);
    if (value !== undefined) (client as unknown as Record<string, unknown>)[field] = value;
  }
  const mode = oneOf<SocketMode>('mode', get('mode'), ['auto', 'legacy', 'direct']);
  if (mode) client.mode = mode;
  const proxy = oneOf<SshProxy>('proxy', get('proxy'), ['auto', 'native', 'netcat']);
  if (proxy) client.proxy = proxy;
  return client;
}

/** The parameters the daemon sees: everything but the client's own. */
function passThroughQuery(params: URLSearchParams): string {
  const kept = new URLSearchParams();
  for (const [key, value] of params) {
    if (!(CLIENT_ONLY_PARAMS as readonly string[]).includes(key.toLowerCase())) kept.append(key, value);
  }
  const query = kept.toString();
  return query ? `?${query}` : '';
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return invalid(`malformed percent-encoding in the URI's ${what}: '${part}'`);
  }
}

/** Parse a libvirt remote URI; bad input is a VirError (VIR_ERR_INVALID_ARG). */
export function parseRemoteURI(input: string | URL): RemoteTarget {
  const text = typeof input === 'string' ? input.trim() : input.href;
  if (text === '') invalid('empty connection URI');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return invalid(`cannot parse connection URI '${text}'`);
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (!text.slice(scheme.length + 1).startsWith('//')) invalid(`connection URI '${text}' needs '//' after '${scheme}:' (e.g. ${scheme}:///system)`);
  const plus = scheme.indexOf('+');
  const driver = plus < 0 ? scheme : scheme.slice(0, plus);
  if (driver === '') invalid(`connection URI '${text}' names no driver before '+'`);
  const host = url.hostname ? decode(url.hostname.replace(/^\[(.*)\]$/, '$1'), 'host') : undefined;

  let transport: RemoteTransportName;
  let transportSpelling: string | undefined;
  if (plus >= 0) {
    const spelled = scheme.slice(plus + 1);
    const known = TRANSPORT_ALIASES[spelled];
    if (!known) invalid(`transport '${spelled}' in '${text}' not recognised (should be tls|unix|ssh|ext|tcp|libssh2|libssh)`);
    if (known !== spelled) transportSpelling = spelled;
    if (known === 'unix' && host) invalid(`using a unix socket with the remote server '${host}' is not supported ('${text}')`);
    transport = known;
  } else {
    transport = host ? 'tls' : 'unix';
  }

  const params = url.searchParams;
  const client = readClientParams(params);
  if (transport === 'ext' && !client.command) invalid(`the ext transport needs ?command= ('${text}')`);

  const path = decode(url.pathname, 'path');
  const name = clientParam(params, 'name');
  let remoteName: string;
  if (name !== undefined) remoteName = name;
  else if (driver === 'remote') remoteName = ''; // let the daemon probe its default
  else remoteName = `${driver}://${url.pathname}${passThroughQuery(params)}${url.hash}`;

  const target: RemoteTarget = { uri: text, scheme, driver, transport, path, params, client, remoteName };
  if (transportSpelling) target.transportSpelling = transportSpelling;
  if (url.username) target.user = decode(url.username, 'user name');
  if (host) target.host = host;
  if (url.port) target.port = Number(url.port);
  return target;
}

export interface UnixSocketChoice {
  /** The socket to connect to. */
  path: string;
  /** Every path considered, in order (for the error message when none works). */
  considered: string[];
  /** Why this one: `?socket=`, the modular daemon's, or libvirtd's. */
  reason: 'socket-param' | 'direct' | 'legacy';
}

export interface UnixSocketContext {
  exists?: (path: string) => boolean;
  euid?: number;
  env?: NodeJS.ProcessEnv;
  home?: string;
  readonly?: boolean;
  /** The root of the system sockets (libvirt: $LOCALSTATEDIR/run/libvirt). */
  systemDir?: string;
}

/** True when libvirt would use the per-user (session) daemon for this URI. */
export function wantsSessionDaemon(target: RemoteTarget, euid = process.geteuid?.() ?? 0): boolean {
  return euid > 0 && (target.path === '/session' || target.scheme.startsWith('test+'));
}

/** $XDG_RUNTIME_DIR/libvirt, or the cache dir when no runtime dir is set (as libvirt does). */
export function userRuntimeDir(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'libvirt');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'libvirt');
}

/**
 * The local unix socket for a target, chosen as libvirt chooses: `?socket=` if given; in auto
 * mode the modular daemon's (`virt<driver>d-sock`) when it exists, else `libvirt-sock`.
 */
export function chooseUnixSocket(target: RemoteTarget, context: UnixSocketContext = {}): UnixSocketChoice {
  if (target.client.socket !== undefined) {
    if (target.client.socket === '') invalid(`empty ?socket= in '${target.uri}'`);
    return { path: target.client.socket, considered: [target.client.socket], reason: 'socket-param' };
  }
  const exists = context.exists ?? existsSync;
  const session = wantsSessionDaemon(target, context.euid ?? process.geteuid?.() ?? 0);
  const dir = session ? userRuntimeDir(context.env, context.home) : (context.systemDir ?? '/run/libvirt');
  const suffix = !session && context.readonly ? 'sock-ro' : 'sock';
  const direct = join(dir, `${target.driver === 'remote' ? 'libvirt' : `virt${target.driver}d`}-${suffix}`);
  const legacy = join(dir, `libvirt-${suffix}`);
  const mode = target.client.mode ?? 'auto';
  if (mode === 'direct') return { path: direct, considered: [direct], reason: 'direct' };
  if (mode === 'legacy') return { path: legacy, considered: [legacy], reason: 'legacy' };
  if (exists(direct)) return { path: direct, considered: [direct], reason: 'direct' };
  return { path: legacy, considered: direct === legacy ? [legacy] : [direct, legacy], reason: 'legacy' };
}

/** The default TCP/TLS port of a transport. */
export function defaultPort(transport: 'tcp' | 'tls'): number {
  return transport === 'tls' ? DEFAULT_TLS_PORT : DEFAULT_TCP_PORT;
}
