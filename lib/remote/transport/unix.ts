/**
 * The local transport: a unix socket chosen as libvirt chooses (see chooseUnixSocket).
 */
import { createConnection, type Socket } from 'node:net';
import { chooseUnixSocket, type RemoteTarget } from '../uri.js';
import { boundedAttempt } from './attempt.js';
import { systemError } from './errors.js';
import type { OpenTransportOptions, RemoteTransport } from './types.js';

export function openUnixTransport(target: RemoteTarget, options: OpenTransportOptions = {}): Promise<RemoteTransport> {
  const choice = chooseUnixSocket(target, { readonly: options.readonly ?? false });
  const describe = `unix:${choice.path}`;
  let socket: Socket | undefined;
  return boundedAttempt<RemoteTransport>(
    describe,
    options,
    (resolve, reject) => {
      socket = createConnection(choice.path);
      socket.once('error', (e) => {
        // Say which socket and how it was chosen, so a wrong ?socket= or a daemon that is
        // not running is obvious from the message alone.
        const how =
          choice.reason === 'socket-param'
            ? ' (from ?socket=)'
            : choice.considered.length > 1
              ? ` (tried ${choice.considered.join(', ')}; is libvirtd or virt${target.driver}d running?)`
              : '';
        reject(systemError(`Failed to connect socket to '${choice.path}'${how}`, e));
      });
      socket.once('connect', () => {
        const s = socket as Socket;
        s.removeAllListeners('error');
        resolve({ stream: s, secure: true, describe, close: () => s.destroy() });
      });
    },
    () => socket?.destroy(),
  );
}
