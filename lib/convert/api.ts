/**
 * The public converter entry points (virsh's domxml-from-native / domxml-to-native and
 * the host capabilities), dispatching on libvirt's native format names.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import { formatDomainXML, parseDomainXML } from '../domain/index.js';
import { domainFromSexpr, domainToSexpr } from './xend-sexpr.js';
import { domainFromXM, domainToXM } from './xm-config.js';
import { domainFromXL, domainToXL } from './xl-config.js';

export type NativeFormat = 'xen-sxpr' | 'xen-xm' | 'xen-xl';
export type XendConfigVersion = 1 | 2 | 3 | 4;
export interface ConvertOptions {
  /** xend release the text is for: 3.0.2 = 1, 3.0.3 = 2, 3.0.4 = 3, 3.1.0 and later = 4 (default). */
  xendConfigVersion?: XendConfigVersion;
}

function version(opts: ConvertOptions | undefined): XendConfigVersion {
  const v = opts?.xendConfigVersion ?? 4;
  if (v !== 1 && v !== 2 && v !== 3 && v !== 4) {
    throw new VirError(`unsupported xend config version ${String(v)} (expected 1 to 4)`, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEN });
  }
  return v;
}

function checkText(text: unknown, what: string): asserts text is string {
  if (typeof text !== 'string') throw new VirError(`${what} must be a string`, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.XEN });
}

function unknownFormat(format: unknown): VirError {
  return new VirError(`unsupported config type ${JSON.stringify(format)} (expected xen-sxpr, xen-xm or xen-xl)`, {
    code: ErrorCode.INVALID_ARG,
    domain: ErrorDomain.XEN,
  });
}

/** Native config text -> domain XML. */
export function xmlFromNative(format: NativeFormat, text: string, opts?: ConvertOptions): string {
  const v = version(opts);
  checkText(text, 'native config');
  switch (format) {
    case 'xen-sxpr':
      return formatDomainXML(domainFromSexpr(text, { xendConfigVersion: v }));
    case 'xen-xm':
      return formatDomainXML(domainFromXM(text, { xendConfigVersion: v }));
    case 'xen-xl':
      return formatDomainXML(domainFromXL(text));
    default:
      throw unknownFormat(format);
  }
}

/** Domain XML -> native config text. */
export function xmlToNative(format: NativeFormat, xml: string, opts?: ConvertOptions): string {
  const v = version(opts);
  checkText(xml, 'domain XML');
  if (format !== 'xen-sxpr' && format !== 'xen-xm' && format !== 'xen-xl') throw unknownFormat(format);
  const def = parseDomainXML(xml, { inactive: true });
  switch (format) {
    case 'xen-sxpr':
      return domainToSexpr(def, { xendConfigVersion: v });
    case 'xen-xm':
      return domainToXM(def, { xendConfigVersion: v });
    case 'xen-xl':
      return domainToXL(def);
  }
}
