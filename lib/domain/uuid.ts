/**
 * UUIDs in libvirt's canonical form: lowercase 8-4-4-4-12 hex.
 *
 * Random bytes come from the Web Crypto global, not an import of node:crypto: node loads
 * its crypto modules (~4 ms, more under emulation) only when a UUID is generated, not in
 * every process that merely checks one (CLI start-up, issue 15).
 */

function fromBytes(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A random (version 4) UUID. */
export function generateUUID(): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return fromBytes(b);
}

const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Canonical form of a UUID written with or without dashes (libvirt accepts dashes anywhere
 * between hex pairs, and surrounding blanks); undefined when it is not a UUID.
 */
export function canonicalUUID(text: string): string | undefined {
  // Already canonical (what libvirt and xenvirt write): keep the string as it is.
  if (text.length === 36 && CANONICAL.test(text)) return text;
  const hex = text.trim().replace(/-/g, '');
  if (hex.length !== 32 || !/^[0-9a-fA-F]{32}$/.test(hex)) return undefined;
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
