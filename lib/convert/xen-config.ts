/**
 * What the xm and xl config converters share: the two flavours, their errors, typed access
 * to parsed settings and the "k=v,k=v" option strings used inside list entries.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import { confGet, type ConfEntry, type ConfValue } from './conf.js';

export type Flavor = 'xm' | 'xl';

export const HVMLOADER = '/usr/lib/xen/boot/hvmloader';
export const MAX_MIB = 2 ** 40;

export function confErr(flavor: Flavor, message: string): VirError {
  return new VirError(message, { code: ErrorCode.CONF_SYNTAX, domain: flavor === 'xl' ? ErrorDomain.XENXL : ErrorDomain.XENXM });
}
export function unsupported(flavor: Flavor, message: string): VirError {
  return new VirError(message, { code: ErrorCode.CONFIG_UNSUPPORTED, domain: flavor === 'xl' ? ErrorDomain.XENXL : ErrorDomain.XENXM });
}

/** Typed access to the settings, with errors that name the setting. */
export class Settings {
  /** Names the reader asked for: any other setting in the file is one xenvirt does not model. */
  readonly asked = new Set<string>();
  constructor(readonly entries: ConfEntry[], readonly flavor: Flavor) {}
  raw(name: string): ConfValue | undefined {
    this.asked.add(name);
    return confGet(this.entries, name);
  }
  /** Settings the toolstack itself ignores in this file: dropping them keeps its meaning. */
  ignore(...names: string[]): void {
    for (const n of names) this.asked.add(n);
  }
  /** Settings in the file that the reader never looked at, in file order. */
  unread(): string[] {
    const out: string[] = [];
    for (const e of this.entries) if (!this.asked.has(e.name) && !out.includes(e.name)) out.push(e.name);
    return out;
  }
  str(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (typeof v === 'number') return String(v);
    if (typeof v !== 'string') throw confErr(this.flavor, `config value ${name} was malformed: expected a string, found a list`);
    return v;
  }
  int(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) n = Number(v);
    else throw confErr(this.flavor, `config value ${name} was malformed: expected a number`);
    if (n < min || n > max) throw confErr(this.flavor, `config value ${name} = ${n} is out of range (${min} to ${max})`);
    return n;
  }
  bool(name: string): boolean | undefined {
    const n = this.int(name, -1, 1);
    return n === undefined ? undefined : n !== 0;
  }
  /** A list of strings; a lone string counts as a one-element list. */
  list(name: string): string[] {
    const v = this.raw(name);
    if (v === undefined) return [];
    const items = Array.isArray(v) ? v : [v];
    return items.map((x) => {
      if (typeof x !== 'string') throw confErr(this.flavor, `config value ${name} was malformed: expected a list of strings`);
      return x;
    });
  }
}

/** "k=v,k=v" option strings used by vif, vfb, channel, usbctrl … (values may not contain ','). */
export function keyValues(spec: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of spec.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) m.set(p, '');
    else m.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim());
  }
  return m;
}

export interface ConfigOptions {
  /** xend release an xm file is for (1 = 3.0.2 … 4 = 3.1.0+); xl ignores it. */
  xendConfigVersion?: 1 | 2 | 3 | 4;
}

