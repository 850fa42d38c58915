/**
 * What the XenStore sub-driver remembers between calls about each domain id: its name
 * and UUID (/local/domain/<id>/name and /vm) and whether xenstored has the domain
 * introduced. A warm list or lookup then costs one XenStore request instead of three
 * per domain.
 *
 * Never stale, by two rules:
 * - Invalidation: the sub-driver watches /local/domain (fires for any write or removal
 *   at or below it) and @introduceDomain/@releaseDomain. A change of an id's node, name
 *   or vm drops that id; an introduce or release forgets every id's liveness. Entries
 *   whose UUID came from elsewhere (`<vm>/uuid`, a path not watched) are never stored.
 * - A barrier before every use: the sub-driver first sends one request (the
 *   /local/domain listing) and uses entries only after its reply. xenstored queues
 *   a connection's watch events and replies in one ordered stream and the addon
 *   delivers them in that order, synchronously, so every change completed before the
 *   request was handled has invalidated its entries by the time the reply is seen.
 * Answers read while an invalidation arrived are used for that call but not stored
 * (the generation counter says so). Until every watch is registered, or after one
 * broke, the cache is off and every call reads XenStore.
 */
import type { DomainRef } from '../../driver.js';

export interface NameEntry {
  /** The domain's name and UUID, or undefined when XenStore does not name it (yet). */
  ref: DomainRef | undefined;
  /** xenstored has the domain introduced; undefined after an introduce/release event. */
  alive: boolean | undefined;
}

const DOMAIN_FACT = /^\/local\/domain\/(\d+)(?:\/(?:name|vm))?$/;

export class DomainNameCache {
  readonly #entries = new Map<number, NameEntry>();
  #generation = 0;
  #live = false;
  /** Entries served and stored so far (tests check that the cache is used). */
  hits = 0;
  fills = 0;

  /** Entries may be used: every watch that keeps them current is registered. */
  get live(): boolean {
    return this.#live;
  }

  /** Bumped by every invalidation: a fill started under another generation is not stored. */
  get generation(): number {
    return this.#generation;
  }

  enable(): void {
    this.#entries.clear();
    this.#generation++;
    this.#live = true;
  }

  /** A watch broke or the connection closed: changes may go unseen from now on. */
  disable(): void {
    this.#live = false;
    this.#entries.clear();
    this.#generation++;
  }

  /** A /local/domain watch event. */
  storeChanged(path: string): void {
    const m = DOMAIN_FACT.exec(path);
    if (!m) return; // devices, memory targets, …: not what the entries hold
    this.#entries.delete(Number(m[1]));
    this.#generation++;
  }

  /** @introduceDomain or @releaseDomain fired: which domain is not said, so all are unsure. */
  livenessChanged(): void {
    for (const e of this.#entries.values()) e.alive = undefined;
    this.#generation++;
  }

  get(id: number): NameEntry | undefined {
    if (!this.#live) return undefined;
    const e = this.#entries.get(id);
    if (e && e.alive !== undefined) this.hits++;
    return e;
  }

  /** Remember what was read under `generation`, unless something changed since. */
  store(generation: number, id: number, entry: NameEntry): void {
    if (!this.#live || generation !== this.#generation) return;
    this.#entries.set(id, entry);
    this.fills++;
  }

  /** Forget ids XenStore no longer lists. */
  retain(ids: readonly number[]): void {
    const keep = new Set(ids);
    for (const id of this.#entries.keys()) if (!keep.has(id)) this.#entries.delete(id);
  }
}
