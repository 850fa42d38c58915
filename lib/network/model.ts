/**
 * libvirt's network XML: the subset xenvirt's drivers keep (name, uuid, forward mode,
 * bridge, MAC, domain name, IP ranges with DHCP). Elements outside it are ignored, as
 * libvirt's own parser ignores what it does not know.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import { canonicalUUID, generateUUID } from '../domain/uuid.js';
import { parseXml, child, childrenNamed, childText, escapeAttr, escapeText, type XmlElement } from '../xml/tree.js';

export interface NetworkIP {
  family?: 'ipv4' | 'ipv6';
  address: string;
  netmask?: string;
  prefix?: number;
  dhcpRanges: { start: string; end: string }[];
  dhcpHosts: { mac?: string; name?: string; ip: string }[];
}

export interface NetworkDef {
  name: string;
  uuid: string;
  forward?: { mode: string; dev?: string };
  bridge?: { name?: string; stp?: 'on' | 'off'; delay?: number };
  mac?: string;
  domainName?: string;
  ips: NetworkIP[];
}

const FORWARD_MODES = new Set(['nat', 'route', 'open', 'bridge', 'private', 'vepa', 'passthrough', 'hostdev']);
const NAME_RE = /^[^/\0\s][^/\0]*$/;

function bad(message: string): VirError {
  return new VirError(message, { code: ErrorCode.XML_ERROR, domain: ErrorDomain.NETWORK });
}

function networkUUID(s: string, line: number): string {
  const uuid = canonicalUUID(s);
  if (uuid === undefined) throw bad(`network XML line ${line}: malformed uuid '${s.trim()}'`);
  return uuid;
}

function parseIP(el: XmlElement): NetworkIP {
  const address = el.attrs.get('address');
  if (!address) throw bad(`network XML line ${el.line}: <ip> needs an address`);
  const family = el.attrs.get('family');
  if (family !== undefined && family !== 'ipv4' && family !== 'ipv6') {
    throw bad(`network XML line ${el.line}: unknown ip family '${family}'`);
  }
  const prefixText = el.attrs.get('prefix');
  let prefix: number | undefined;
  if (prefixText !== undefined) {
    prefix = Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > 128) throw bad(`network XML line ${el.line}: bad prefix '${prefixText}'`);
  }
  const ip: NetworkIP = { address, dhcpRanges: [], dhcpHosts: [] };
  if (family) ip.family = family;
  const netmask = el.attrs.get('netmask');
  if (netmask !== undefined) ip.netmask = netmask;
  if (prefix !== undefined) ip.prefix = prefix;
  const dhcp = child(el, 'dhcp');
  if (dhcp) {
    for (const r of childrenNamed(dhcp, 'range')) {
      const start = r.attrs.get('start');
      const end = r.attrs.get('end');
      if (!start || !end) throw bad(`network XML line ${r.line}: <range> needs start and end`);
      ip.dhcpRanges.push({ start, end });
    }
    for (const h of childrenNamed(dhcp, 'host')) {
      const hostIp = h.attrs.get('ip');
      if (!hostIp) throw bad(`network XML line ${h.line}: <host> needs an ip`);
      const host: NetworkIP['dhcpHosts'][number] = { ip: hostIp };
      const mac = h.attrs.get('mac');
      const name = h.attrs.get('name');
      if (mac) host.mac = mac;
      if (name) host.name = name;
      ip.dhcpHosts.push(host);
    }
  }
  return ip;
}

export function parseNetworkXML(xml: string): NetworkDef {
  const root = parseXml(xml, { maxLength: 1024 * 1024 });
  if (root.name !== 'network') throw bad(`expected <network> as the root element, found <${root.name}>`);
  const name = childText(root, 'name');
  if (!name) throw bad('network XML has no <name>');
  if (!NAME_RE.test(name)) throw bad(`network name '${name}' may not contain '/' or start with a space`);
  const uuidText = childText(root, 'uuid');
  const def: NetworkDef = {
    name,
    uuid: uuidText ? networkUUID(uuidText, child(root, 'uuid')!.line) : generateUUID(),
    ips: childrenNamed(root, 'ip').map(parseIP),
  };
  const fwd = child(root, 'forward');
  if (fwd) {
    const mode = fwd.attrs.get('mode') ?? 'nat';
    if (!FORWARD_MODES.has(mode)) throw bad(`network XML line ${fwd.line}: unknown forward mode '${mode}'`);
    def.forward = { mode };
    const dev = fwd.attrs.get('dev');
    if (dev) def.forward.dev = dev;
  }
  const br = child(root, 'bridge');
  if (br) {
    def.bridge = {};
    const n = br.attrs.get('name');
    if (n !== undefined) def.bridge.name = n;
    const stp = br.attrs.get('stp');
    if (stp !== undefined) {
      if (stp !== 'on' && stp !== 'off') throw bad(`network XML line ${br.line}: stp must be 'on' or 'off'`);
      def.bridge.stp = stp;
    }
    const delay = br.attrs.get('delay');
    if (delay !== undefined) {
      const d = Number(delay);
      if (!Number.isInteger(d) || d < 0) throw bad(`network XML line ${br.line}: bad bridge delay '${delay}'`);
      def.bridge.delay = d;
    }
  }
  const mac = child(root, 'mac')?.attrs.get('address');
  if (mac) {
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw bad(`network XML: malformed MAC address '${mac}'`);
    def.mac = mac.toLowerCase();
  }
  const dn = child(root, 'domain')?.attrs.get('name');
  if (dn) def.domainName = dn;
  return def;
}

/** Format in libvirt's layout (two-space indent, single-quoted attributes). */
export function formatNetworkXML(def: NetworkDef): string {
  const out: string[] = ['<network>'];
  out.push(`  <name>${escapeText(def.name)}</name>`);
  out.push(`  <uuid>${def.uuid}</uuid>`);
  if (def.forward) {
    out.push(`  <forward mode='${escapeAttr(def.forward.mode)}'${def.forward.dev ? ` dev='${escapeAttr(def.forward.dev)}'` : ''}/>`);
  }
  if (def.bridge) {
    const a: string[] = [];
    if (def.bridge.name !== undefined) a.push(`name='${escapeAttr(def.bridge.name)}'`);
    if (def.bridge.stp !== undefined) a.push(`stp='${def.bridge.stp}'`);
    if (def.bridge.delay !== undefined) a.push(`delay='${def.bridge.delay}'`);
    out.push(`  <bridge ${a.join(' ')}/>`);
  }
  if (def.mac) out.push(`  <mac address='${def.mac}'/>`);
  if (def.domainName) out.push(`  <domain name='${escapeAttr(def.domainName)}'/>`);
  for (const ip of def.ips) {
    const a: string[] = [];
    if (ip.family) a.push(`family='${ip.family}'`);
    a.push(`address='${escapeAttr(ip.address)}'`);
    if (ip.netmask) a.push(`netmask='${escapeAttr(ip.netmask)}'`);
    if (ip.prefix !== undefined) a.push(`prefix='${ip.prefix}'`);
    if (ip.dhcpRanges.length === 0 && ip.dhcpHosts.length === 0) {
      out.push(`  <ip ${a.join(' ')}/>`);
      continue;
    }
    out.push(`  <ip ${a.join(' ')}>`, '    <dhcp>');
    for (const r of ip.dhcpRanges) out.push(`      <range start='${escapeAttr(r.start)}' end='${escapeAttr(r.end)}'/>`);
    for (const h of ip.dhcpHosts) {
      const ha: string[] = [];
      if (h.mac) ha.push(`mac='${escapeAttr(h.mac)}'`);
      if (h.name) ha.push(`name='${escapeAttr(h.name)}'`);
      ha.push(`ip='${escapeAttr(h.ip)}'`);
      out.push(`      <host ${ha.join(' ')}/>`);
    }
    out.push('    </dhcp>', '  </ip>');
  }
  out.push('</network>');
  return out.join('\n') + '\n';
}
