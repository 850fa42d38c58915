/** Converters between the domain model and Xen's native formats, plus their readers/writers. */
export { xmlFromNative, xmlToNative } from './api.js';
export type { NativeFormat, ConvertOptions, XendConfigVersion } from './api.js';
export { xenCapabilities } from './capabilities.js';
export type { XenCapabilitiesInput } from './capabilities.js';
export { parseSexpr, formatSexpr, quoteAtom, sexprChild, sexprChildren, sexprLookup, sexprGet, sexprInt } from './sexpr.js';
export type { Sexpr, SexprList } from './sexpr.js';
export { parseConf, formatConf, formatConfValue, confGet } from './conf.js';
export type { ConfValue, ConfEntry } from './conf.js';
export { domainFromSexpr, domainToSexpr } from './xend-sexpr.js';
