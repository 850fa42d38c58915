/** Domain and network references: xenvirt's (UUID as text) ↔ the wire's (16 raw bytes). */
import type { DomainRef, NetworkRef } from '../driver.js';
import type * as P from './protocol/remote.js';

export function uuidToBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}
export function bytesToUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
export function toDomainRef(d: P.remote_nonnull_domain): DomainRef {
  return { name: d.name, uuid: bytesToUuid(d.uuid), id: d.id };
}
export function toWireDomain(d: DomainRef): P.remote_nonnull_domain {
  return { name: d.name, uuid: uuidToBytes(d.uuid), id: d.id };
}
export function toNetworkRef(n: P.remote_nonnull_network): NetworkRef {
  return { name: n.name, uuid: bytesToUuid(n.uuid) };
}
export function toWireNetwork(n: NetworkRef): P.remote_nonnull_network {
  return { name: n.name, uuid: uuidToBytes(n.uuid) };
}
