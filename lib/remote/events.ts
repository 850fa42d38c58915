/**
 * Asynchronous event messages from the daemon → the connection's events: 'domain-event'
 * (lifecycle with libvirt's event/detail names, every other domain event ID with its fields
 * as `data`) and 'network-event'. Which kind a message is comes from the callback ID the
 * daemon gave when the driver registered (see RemoteDriver.watchEvents).
 */
import type { Packet } from './packet.js';
import { XdrReader } from './xdr.js';
import * as P from './protocol/remote.js';
import * as E from './protocol/c-enums.js';
import { toDomainRef, toNetworkRef } from './refs.js';

export type RemoteEvent = { kind: 'domain-event' | 'network-event'; payload: Record<string, unknown> };

/** 'VIR_DOMAIN_EVENT_STARTED_BOOTED' with prefix 'VIR_DOMAIN_EVENT_STARTED_' → 'booted'. */
function shortName(full: string | undefined, prefix: string): string | undefined {
  if (!full || !full.startsWith(prefix)) return undefined;
  return full.slice(prefix.length).toLowerCase().replace(/_/g, '-');
}
/** Lifecycle detail enums by event type (virDomainEventType order). */
const LIFECYCLE_DETAILS: Record<string, Readonly<Record<number, string>>> = {
  DEFINED: E.virDomainEventDefinedDetailType,
  UNDEFINED: E.virDomainEventUndefinedDetailType,
  STARTED: E.virDomainEventStartedDetailType,
  SUSPENDED: E.virDomainEventSuspendedDetailType,
  RESUMED: E.virDomainEventResumedDetailType,
  STOPPED: E.virDomainEventStoppedDetailType,
  SHUTDOWN: E.virDomainEventShutdownDetailType,
  PMSUSPENDED: E.virDomainEventPMSuspendedDetailType,
  CRASHED: E.virDomainEventCrashedDetailType,
};

/**
 * Decode one VIR_NET_MESSAGE; undefined for anything that is not an event of ours (unknown
 * program or procedure, unregistered callback, undecodable payload — never fatal).
 */
export function decodeRemoteEvent(p: Packet, callbacks: ReadonlyMap<number, string>): RemoteEvent | undefined {
  if (p.prog !== P.REMOTE_PROGRAM) return undefined;
  const info = P.remote_procedure_table[p.proc];
  if (!info?.msg) return undefined;
  let msg: Record<string, unknown>;
  try {
    msg = info.msg.read(new XdrReader(p.body)) as Record<string, unknown>;
  } catch {
    return undefined; // an undecodable event is dropped, not fatal to the calls on this connection
  }
  const kind = callbacks.get(msg.callbackID as number);
  if (kind === undefined) return undefined;
  if (kind === 'NETWORK_LIFECYCLE') {
    const m = msg as unknown as P.remote_network_event_lifecycle_msg;
    const event = shortName(E.virNetworkEventLifecycleType[m.event], 'VIR_NETWORK_EVENT_') ?? String(m.event);
    return { kind: 'network-event', payload: { network: toNetworkRef(m.net), event } };
  }
  // Callback messages either carry the fields directly or wrap the legacy message in `msg`.
  const body = (msg.msg && typeof msg.msg === 'object' && !Buffer.isBuffer(msg.msg) ? msg.msg : msg) as Record<string, unknown>;
  const dom = toDomainRef(body.dom as P.remote_nonnull_domain);
  if (kind === 'LIFECYCLE') {
    const typeName = E.virDomainEventType[body.event as number];
    const event = shortName(typeName, 'VIR_DOMAIN_EVENT_') ?? String(body.event);
    const detailKey = typeName?.replace(/^VIR_DOMAIN_EVENT_/, '') ?? '';
    const detailName = LIFECYCLE_DETAILS[detailKey]?.[body.detail as number];
    const detail = shortName(detailName, `VIR_DOMAIN_EVENT_${detailKey}_`);
    if (event === 'stopped' || event === 'undefined') dom.id = -1;
    return { kind: 'domain-event', payload: { domain: dom, event, ...(detail ? { detail } : {}) } };
  }
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (k !== 'dom' && k !== 'callbackID') data[k] = v;
  return { kind: 'domain-event', payload: { domain: dom, event: kind.toLowerCase().replace(/_/g, '-'), data } };
}
