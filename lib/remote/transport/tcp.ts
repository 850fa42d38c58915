/**
 * TCP to a daemon's port, plain (tcp) or as the base of TLS; Nagle off because every RPC
 * is a small request waiting for its reply.
 */
import { createConnection, type Socket } from 'node:net';
import { defaultPort, type RemoteTarget } from '../uri.js';
import { boundedAttempt } from './attempt.js';
import { systemError } from './errors.js';
import type { OpenTransportOptions, RemoteTransport } from './types.js';

/** libvirt connects to localhost when a tcp/tls URI names no host. */
export function targetHost(target: RemoteTarget): string {
  return target.host ?? 'localhost';
}

export function targetPort(target: RemoteTarget, transport: 'tcp' | 'tls'): number {
  return target.port ?? defaultPort(transport);
}

/** host:port with IPv6 literals bracketed. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function connectTcp(host: string, port: number, describe: string, options: OpenTransportOptions): Promise<Socket> {
  let socket: Socket | undefined;
  return boundedAttempt<Socket>(
    describe,
    options,
    (resolve, reject) => {
      socket = createConnection({ host, port });
      socket.once('error', (e) => reject(systemError(`unable to connect to server at '${hostPort(host, port)}'`, e)));
      socket.once('connect', () => {
        const s = socket as Socket;
        s.removeAllListeners('error');
        s.setNoDelay(true);
        resolve(s);
      });
    },
    () => socket?.destroy(),
  );
}

export async function openTcpTransport(target: RemoteTarget, options: OpenTransportOptions = {}): Promise<RemoteTransport> {
  const host = targetHost(target);
  const port = targetPort(target, 'tcp');
  const describe = `tcp:${hostPort(host, port)}`;
  const socket = await connectTcp(host, port, describe, options);
  return { stream: socket, secure: false, describe, close: () => socket.destroy() };
}
