/** The credentials of a unix-socket peer, from the kernel (SO_PEERCRED via the addon). */
import type { Socket } from 'node:net';
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
import { native } from '../native.js';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

type GetPeerCredentials = (fd: number) => PeerCredentials;

/** Throws a VirError when the socket has no fd (not a unix socket) or the kernel refuses. */
export function peerCredentials(socket: Socket): PeerCredentials {
  // net.Socket keeps its libuv handle private; its fd is the only way to ask the kernel.
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new VirError('cannot read peer credentials: the socket has no file descriptor', { code: ErrorCode.SYSTEM_ERROR, domain: ErrorDomain.PROXY });
  }
  return (native().getPeerCredentials as GetPeerCredentials)(fd);
}
