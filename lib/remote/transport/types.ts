/**
 * What every remote transport hands the RPC client: a byte stream to the daemon.
 */
import type { Duplex } from 'node:stream';

export interface RemoteTransport {
  /** Bytes to and from the daemon; errors on it are VirErrors naming the peer. */
  stream: Duplex;
  /** True when the bytes are protected on the way (TLS; ssh; a local unix socket). */
  secure: boolean;
  /** Where the stream goes, for messages: `unix:/run/libvirt/libvirt-sock`, `tls:host:16514`, … */
  describe: string;
  /** Tear the stream (and any helper process) down. Idempotent. */
  close(): void;
}

export interface OpenTransportOptions {
  /** Abort the connection attempt. */
  signal?: AbortSignal;
  /** Bound on the whole attempt (connect, TLS handshake and verdict); default 30 s. */
  timeoutMs?: number;
  /** Read-only connection: the `-ro` system socket, `virt-ssh-helper -r`. */
  readonly?: boolean;
}

export const DEFAULT_OPEN_TIMEOUT_MS = 30_000;
