/**
 * openTransport: a byte stream to the libvirt daemon a remote URI names, over the URI's
 * transport (unix, tcp, tls, ssh, ext).
 */
import type { RemoteTarget } from '../uri.js';
import { openExtTransport } from './ext.js';
import { openSshTransport } from './ssh.js';
import { openTcpTransport } from './tcp.js';
import { openTlsTransport } from './tls.js';
import type { OpenTransportOptions, RemoteTransport } from './types.js';
import { openUnixTransport } from './unix.js';

export type { OpenTransportOptions, RemoteTransport } from './types.js';

const OPENERS: Record<RemoteTarget['transport'], (target: RemoteTarget, options: OpenTransportOptions) => Promise<RemoteTransport>> = {
  unix: openUnixTransport,
  tcp: openTcpTransport,
  tls: openTlsTransport,
  ssh: openSshTransport,
  ext: openExtTransport,
};

export async function openTransport(target: RemoteTarget, options: OpenTransportOptions = {}): Promise<RemoteTransport> {
  return OPENERS[target.transport](target, options);
}
