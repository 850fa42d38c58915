/**
 * The ext transport: `?command=` names a program whose stdin/stdout carry the protocol
 * (run without a shell and without arguments, as libvirt does).
 */
import type { RemoteTarget } from '../uri.js';
import { helperDied, spawnStream } from './child-stream.js';
import type { OpenTransportOptions, RemoteTransport } from './types.js';

export async function openExtTransport(target: RemoteTarget, options: OpenTransportOptions = {}): Promise<RemoteTransport> {
  const command = target.client.command as string; // parseRemoteURI insists on it for ext
  const describe = `ext:${command}`;
  const stream = await spawnStream(command, [], describe, options, helperDied(describe, 'the command'));
  return { stream, secure: false, describe, close: () => stream.destroy() };
}
