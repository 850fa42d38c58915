/** The domain XML model shared by every driver: types, parse, format. */
export * from './types.js';
export { parseDomainXML, domainFromTree } from './parse.js';
export { formatDomainXML } from './format.js';
export { generateUUID, canonicalUUID } from './uuid.js';
export { domainDefProblem, LIFECYCLE_ACTIONS, MAX_MEMORY_KIB, MAX_VCPUS } from './validate.js';
