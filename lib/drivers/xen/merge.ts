/**
 * How the unified driver combines answers for the 'merge' routes: one domain list
 * without duplicates, and a stored definition with the live facts laid over it.
 */
import type { DomainInfo, DomainRef, ListDomainsFlags, XMLDescFlags } from '../../driver.js';
import type { SubDriverName } from './subdriver.js';

export interface Answer<T> {
  sub: SubDriverName;
  value: T;
}

/**
 * Domains from every source, keyed by UUID. The hypervisor's list is the truth about
 * what runs: a running entry (from XenStore, say) whose id Xen does not know is a stale
 * leftover and is dropped. A domain nobody could name is dropped too (the hypervisor
 * knows ids and UUIDs, not names).
 */
export function mergeDomainLists(answers: readonly Answer<DomainRef[]>[], flags: ListDomainsFlags): DomainRef[] {
  const hv = answers.find((a) => a.sub === 'hypervisor');
  const liveIds = hv ? new Map(hv.value.map((d) => [d.id, d.uuid.toLowerCase()])) : undefined;
  const byUUID = new Map<string, DomainRef>();
  // Info as the sources gave it: a running domain's from a live answer (the hypervisor's
  // batch), an inactive one's from its definition. The first of each kind wins.
  const liveInfo = new Map<string, DomainInfo>();
  const storedInfo = new Map<string, DomainInfo>();
  for (const { value } of answers) {
    for (const d of value) {
      const key = d.uuid.toLowerCase();
      // The id belongs to another domain now (or to none): a stale entry.
      // Such a leftover says nothing true about the domain: drop it (if the domain is
      // also defined, its config source lists it as inactive anyway).
      if (liveIds !== undefined && d.id >= 0 && liveIds.get(d.id) !== key) continue;
      const seen = byUUID.get(key);
      if (!seen) {
        byUUID.set(key, { name: d.name, uuid: d.uuid, id: d.id });
      } else {
        if (!seen.name && d.name) seen.name = d.name;
        if (seen.id < 0 && d.id >= 0) seen.id = d.id;
      }
      if (flags.withInfo && d.info) {
        const into = d.id >= 0 ? liveInfo : storedInfo;
        if (!into.has(key)) into.set(key, d.info);
      }
    }
  }
  if (flags.withInfo) {
    for (const [key, d] of byUUID) {
      const info = d.id >= 0 ? liveInfo.get(key) : storedInfo.get(key);
      if (info) d.info = info;
    }
  }
  // Xen names are unique among running domains, and a config file describes a guest by
  // name: an inactive definition named like a running domain is that domain (its file
  // may have no uuid line, or another one), not a second guest.
  const runningNames = new Set([...byUUID.values()].filter((d) => d.id >= 0 && d.name !== '').map((d) => d.name));
  // Same reading of the flags as the test driver: naming only one kind means only it.
  const wantActive = flags.active ?? !flags.inactive;
  const wantInactive = flags.inactive ?? !flags.active;
  const out = [...byUUID.values()].filter((d) => d.name !== '' && (d.id >= 0 ? wantActive : wantInactive && !runningNames.has(d.name)));
  // Running domains by id, then inactive ones by name: a stable order for users.
  return out.sort((a, b) => (a.id >= 0 && b.id >= 0 ? a.id - b.id : a.id >= 0 ? -1 : b.id >= 0 ? 1 : a.name.localeCompare(b.name)));
}

/**
 * The definition (first answer in route order) with live facts from the later ones:
 * the domain id, current memory, console ttys and graphics ports that exist only while
 * the domain runs. Asked for the inactive XML, the definition is returned as stored.
 */
export async function mergeDomainXML(answers: readonly Answer<string>[], flags: XMLDescFlags): Promise<string> {
  const first = answers[0]!.value;
  if (answers.length === 1 || flags.inactive) return first;
  // The XML code loads on the first merge (a dumpXML), not with the open (issue 15).
  const { formatDomainXML, parseDomainXML } = await import('../../domain/index.js');
  const base = parseDomainXML(first);
  let changed = false;
  for (const { value } of answers.slice(1)) {
    const live = parseDomainXML(value);
    // The same guest: same UUID, or the same name (a config file without a uuid line).
    if (live.uuid.toLowerCase() !== base.uuid.toLowerCase() && live.name !== base.name) continue;
    if (live.id !== undefined && live.id >= 0 && live.uuid.toLowerCase() !== base.uuid.toLowerCase()) {
      base.uuid = live.uuid; // the running domain's UUID is the one Xen knows it by
      changed = true;
    }
    if (live.id !== undefined && live.id >= 0) {
      base.id = live.id;
      base.currentMemory = live.currentMemory;
      changed = true;
    }
    for (const [i, c] of base.devices.consoles.entries()) {
      const tty = live.devices.consoles[i]?.tty;
      if (tty && !c.tty) (c.tty = tty), (changed = true);
    }
    for (const g of base.devices.graphics) {
      const port = live.devices.graphics.find((l) => l.type === g.type)?.port;
      if (port !== undefined && port > 0 && (g.port === undefined || g.port < 0)) (g.port = port), (changed = true);
    }
  }
  return changed ? formatDomainXML(base) : first;
}
