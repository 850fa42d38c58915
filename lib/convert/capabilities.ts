/**
 * Host capabilities XML for a Xen host, from what the host tells us: the flags line of
 * /proc/cpuinfo (hardware virtualisation, PAE) and the guest ABIs listed in
 * /sys/hypervisor/properties/capabilities (e.g. "xen-3.0-x86_64 hvm-3.0-x86_32p").
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import { escapeAttr, escapeText } from '../xml/tree.js';

export interface XenCapabilitiesInput {
  /** Host architecture as libvirt names it: i686, x86_64, ia64, ppc64 … */
  arch: string;
  /** Contents of /proc/cpuinfo */
  cpuinfo: string;
  /** Contents of /sys/hypervisor/properties/capabilities */
  capabilities: string;
  /** Xen's major version; 0 means a test/unknown hypervisor. */
  hypervisorMajor?: number;
}

interface Guest {
  osType: 'xen' | 'hvm';
  arch: string;
  pae: boolean;
  nonpae: boolean;
  ia64be: boolean;
}

// Xen's ABI names -> libvirt architecture, word size and variant.
const ABI_ARCH: Record<string, { arch: string; bits: number; pae?: boolean; nonpae?: boolean; be?: boolean }> = {
  x86_32: { arch: 'i686', bits: 32, nonpae: true },
  x86_32p: { arch: 'i686', bits: 32, pae: true },
  x86_64: { arch: 'x86_64', bits: 64 },
  ia64: { arch: 'ia64', bits: 64 },
  ia64be: { arch: 'ia64', bits: 64, be: true },
  powerpc64: { arch: 'ppc64', bits: 64 },
};
const WORDSIZE: Record<string, number> = { i686: 32, x86_64: 64, ia64: 64, ppc64: 64 };

function invalid(message: string): VirError {
  return new VirError(message, { code: ErrorCode.INTERNAL_ERROR, domain: ErrorDomain.XEN });
}

/** Host CPU features libvirt reports for Xen: hardware virtualisation support. */
function hostFeatures(cpuinfo: string): string[] {
  const out = new Set<string>();
  for (const line of cpuinfo.split('\n')) {
    const m = /^flags\s*:(.*)$/.exec(line);
    if (!m) continue;
    for (const f of m[1]!.trim().split(/\s+/)) if (f === 'vmx' || f === 'svm') out.add(f);
  }
  return [...out];
}

export function xenCapabilities(o: XenCapabilitiesInput): string {
  if (!o || typeof o.arch !== 'string' || typeof o.cpuinfo !== 'string' || typeof o.capabilities !== 'string') {
    throw new VirError('xenCapabilities needs { arch, cpuinfo, capabilities } strings', { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEN });
  }
  if (!/^[A-Za-z0-9_]+$/.test(o.arch)) throw new VirError(`invalid host architecture '${o.arch}'`, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEN });
  const major = o.hypervisorMajor ?? 0;
  const guests: Guest[] = [];
  for (const token of o.capabilities.trim().split(/\s+/).filter(Boolean)) {
    const m = /^(xen|hvm)-(\d+)\.(\d+)-([A-Za-z0-9_]+)$/.exec(token);
    if (!m) throw invalid(`unrecognised Xen capability '${token}'`);
    const abi = ABI_ARCH[m[4]!];
    if (!abi) continue; // an ABI libvirt has no architecture for
    const osType = m[1] as 'xen' | 'hvm';
    let g = guests.find((x) => x.osType === osType && x.arch === abi.arch);
    if (!g) {
      g = { osType, arch: abi.arch, pae: false, nonpae: false, ia64be: false };
      guests.push(g);
    }
    if (abi.pae) g.pae = true;
    if (abi.nonpae) g.nonpae = true;
    if (abi.be) g.ia64be = true;
  }
  const emulator = o.arch === 'x86_64' ? '/usr/lib64/xen/bin/qemu-dm' : '/usr/lib/xen/bin/qemu-dm';
  // Xen 3.x and the test hypervisor (major 0) let a guest turn ACPI/APIC off.
  const toggle = major === 0 || major >= 3 ? 'yes' : 'no';
  const L: string[] = ['<capabilities>', '', '  <host>', '    <cpu>', `      <arch>${escapeText(o.arch)}</arch>`];
  const feats = hostFeatures(o.cpuinfo);
  if (feats.length) {
    L.push('      <features>');
    for (const f of feats) L.push(`        <${f}/>`);
    L.push('      </features>');
  }
  L.push('    </cpu>', '    <power_management/>', '    <migration_features>', '      <live/>', '      <uri_transports>',
    '        <uri_transport>xenmigr</uri_transport>', '      </uri_transports>', '    </migration_features>', '  </host>', '');
  for (const g of guests) {
    L.push('  <guest>', `    <os_type>${g.osType}</os_type>`, `    <arch name='${escapeAttr(g.arch)}'>`, `      <wordsize>${WORDSIZE[g.arch]}</wordsize>`,
      `      <emulator>${emulator}</emulator>`);
    if (g.osType === 'hvm') L.push('      <loader>/usr/lib/xen/boot/hvmloader</loader>');
    L.push(`      <machine>${g.osType === 'hvm' ? 'xenfv' : 'xenpv'}</machine>`, "      <domain type='xen'/>", '    </arch>');
    const gf: string[] = [];
    if (g.pae) gf.push('<pae/>');
    // A PV guest only ever runs one of the two x86_32 ABIs, so only HVM lists both.
    if (g.nonpae && (g.osType === 'hvm' || !g.pae)) gf.push('<nonpae/>');
    if (g.ia64be) gf.push('<ia64_be/>');
    if (g.osType === 'hvm') gf.push(`<acpi default='on' toggle='${toggle}'/>`, `<apic default='on' toggle='${toggle}'/>`);
    if (gf.length) {
      L.push('    <features>');
      for (const f of gf) L.push(`      ${f}`);
      L.push('    </features>');
    }
    L.push('  </guest>', '');
  }
  L.push('</capabilities>');
  return L.join('\n') + '\n';
}
