/**
 * The node operations, shared by the connection (tx 0) and by transactions: validate,
 * serialize, send through a Link, decode. One method per request type.
 */
import { ErrorCode } from '../errors.js';
import { decodeDirectoryPart, decodeList, decodePerms, directoryPartGeneration, type Permission } from './decode.js';
import { XenStoreError } from './errors.js';
import { validatePath } from './paths.js';
import { directoryPartPayload, setPermsPayload, writePayload } from './serializer.js';
import { PAYLOAD_MAX, XsType } from './wire.js';
import { ReplyAs } from './connection.js';

/** How operations reach the daemon (XenStore implements it). Failures reject with a
 * XenStoreError. */
export interface Link {
  send(type: number, txId: number, payload: Buffer | string, replyAs: ReplyAs): Promise<unknown>;
  /**
   * Large directories (those the daemon lists only through DIRECTORY_PART) by path,
   * with their last listing and its generation count; bounded, oldest dropped first.
   */
  readonly largeDirectories: Map<string, CachedListing | undefined>;
}

export interface CachedListing {
  generation: string;
  children: readonly string[];
  /** Length of the child list in bytes: DIRECTORY_PART at this offset answers with
   * just the generation count, a cheap "has it changed?". */
  bytes: number;
}

/** How many large directories a connection remembers. */
export const LARGE_DIRECTORY_HINTS = 64;
/** How often a DIRECTORY_PART listing restarts because the node kept changing. */
const DIRECTORY_RESTARTS = 8;

function checkPerms(perms: unknown): asserts perms is Permission[] {
  const ok =
    Array.isArray(perms) &&
    perms.length > 0 &&
    perms.every(
      (p) =>
        p !== null &&
        typeof p === 'object' &&
        Number.isInteger(p.domid) &&
        p.domid >= 0 &&
        p.domid <= 0xffff &&
        typeof p.read === 'boolean' &&
        typeof p.write === 'boolean',
    );
  if (!ok) {
    throw new XenStoreError('permissions must be a non-empty array of { domid: 0..65535, read: boolean, write: boolean } (the first names the owner)', {
      code: ErrorCode.INVALID_ARG,
      syscall: 'EINVAL',
    });
  }
}

export class NodeOps {
  constructor(
    protected readonly link: Link,
    /** 0 outside a transaction. */
    readonly txId: number,
  ) {}

  /** Hook for transactions to refuse use after they ended. */
  protected check(): void {}


  /**
   * Validate, build the payload and send; a bad argument becomes a rejected promise
   * (never a synchronous throw), like every other failure.
   */
  private run<T>(type: number, path: string, build: () => Buffer | string, replyAs: ReplyAs): Promise<T> {
    let payload: Buffer | string;
    try {
      this.check();
      validatePath(path);
      payload = build();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.link.send(type, this.txId, payload, replyAs) as Promise<T>;
  }

  /** The node's value as UTF-8 text. */
  read(path: string): Promise<string> {
    return this.run<string>(XsType.READ, path, () => path, ReplyAs.TEXT);
  }

  /** The node's value as bytes. */
  readBuffer(path: string): Promise<Buffer> {
    return this.run<Buffer>(XsType.READ, path, () => path, ReplyAs.BUFFER);
  }

  /** Create or replace the node's value (creating missing parents). */
  write(path: string, value: string | Uint8Array): Promise<void> {
    return this.run(XsType.WRITE, path, () => {
      if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
        throw new XenStoreError(`xenstore write ${path}: value must be a string or a Buffer`, { code: ErrorCode.INVALID_ARG, syscall: 'EINVAL', path });
      }
      const payload = writePayload(path, value);
      if (payload.length > PAYLOAD_MAX) {
        throw new XenStoreError(`xenstore write ${path}: path and value take ${payload.length} bytes, over the protocol's ${PAYLOAD_MAX}`, {
          syscall: 'E2BIG',
          path,
        });
      }
      return payload;
    }, ReplyAs.NOTHING);
  }

  /** Create the node (and parents) with an empty value; an existing node is left alone. */
  mkdir(path: string): Promise<void> {
    return this.run(XsType.MKDIR, path, () => path, ReplyAs.NOTHING);
  }

  /** Remove the node and everything below it. */
  rm(path: string): Promise<void> {
    return this.run(XsType.RM, path, () => path, ReplyAs.NOTHING);
  }

  /**
   * The node's children, any number of them: one DIRECTORY when the list fits (or when
   * the daemon sends an oversized reply, as oxenstored does), else DIRECTORY_PART chunks
   * (C xenstored answers E2BIG first), restarting if the node changes meanwhile.
   */
  async directory(path: string): Promise<string[]> {
    const hints = this.link.largeDirectories;
    // A path known to be large goes straight to DIRECTORY_PART: the E2BIG round trip
    // would only be wasted (a shrunken list simply comes back in one part).
    if (!hints.has(path)) {
      try {
        return decodeList(await this.run<Buffer>(XsType.DIRECTORY, path, () => path, ReplyAs.BUFFER));
      } catch (e) {
        if (!(e instanceof XenStoreError) || e.syscall !== 'E2BIG') throw e;
      }
      if (hints.size >= LARGE_DIRECTORY_HINTS) hints.delete(hints.keys().next().value!);
      hints.set(path, undefined);
    }
    // The daemon changes a node's generation count whenever its child list changes, so
    // an unchanged count means the last listing still holds: one tiny round trip and
    // no decoding instead of several large ones. (Asking for part 0 instead would save
    // a round trip on a change but make the daemon build ~4 KB per check; unchanged
    // is the common case.) Only outside transactions, whose view differs.
    const cached = this.txId === 0 ? hints.get(path) : undefined;
    if (cached) {
      const probe = await this.run<Buffer>(XsType.DIRECTORY_PART, path, () => directoryPartPayload(path, cached.bytes), ReplyAs.BUFFER);
      const generation = directoryPartGeneration(probe);
      if (generation === cached.generation && probe.length === Buffer.byteLength(generation) + 2) return [...cached.children];
    }
    for (let attempt = 0; attempt < DIRECTORY_RESTARTS; attempt++) {
      const children: string[] = [];
      let offset = 0;
      let generation: string | undefined;
      for (;;) {
        const part = decodeDirectoryPart(await this.run<Buffer>(XsType.DIRECTORY_PART, path, () => directoryPartPayload(path, offset), ReplyAs.BUFFER));
        if (generation === undefined) generation = part.generation;
        else if (generation !== part.generation) break; // changed under us: start over
        for (const c of part.children) children.push(c);
        offset += part.bytes;
        if (part.last) {
          if (this.txId === 0 && hints.has(path)) {
            hints.delete(path); // re-insert: most recently used last
            hints.set(path, { generation, children: [...children], bytes: offset });
          }
          return children;
        }
        if (part.bytes === 0) throw XenStoreError.protocol(`xenstore directory ${path}: DIRECTORY_PART made no progress`);
      }
    }
    throw new XenStoreError(`xenstore directory ${path}: the node kept changing during ${DIRECTORY_RESTARTS} listings`, { syscall: 'EAGAIN', path });
  }

  /** The node's permissions; the first entry is the owner and the default for others. */
  getPerms(path: string): Promise<Permission[]> {
    return this.run<Buffer>(XsType.GET_PERMS, path, () => path, ReplyAs.BUFFER).then(decodePerms);
  }

  setPerms(path: string, perms: readonly Permission[]): Promise<void> {
    return this.run(XsType.SET_PERMS, path, () => {
      checkPerms(perms);
      const payload = setPermsPayload(path, perms);
      if (payload.length > PAYLOAD_MAX) {
        throw new XenStoreError(`xenstore setPerms ${path}: too many permission entries`, { syscall: 'E2BIG', path });
      }
      return payload;
    }, ReplyAs.NOTHING);
  }
}

