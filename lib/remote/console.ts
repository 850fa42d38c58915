/**
 * A domain console over libvirt's stream packets, as a Node Duplex: DOMAIN_OPEN_CONSOLE
 * opens the stream, which is then named by that call's serial; bytes flow both ways as
 * VIR_NET_STREAM packets with status CONTINUE, OK ends a direction, ERROR aborts.
 */
import { Duplex } from 'node:stream';
import type { VirError } from '../errors.js';
import { REMOTE, type RemoteClient, type StreamSink } from './client.js';
import { REMOTE_PROC_DOMAIN_OPEN_CONSOLE, type remote_nonnull_domain } from './protocol/remote.js';
import { VIR_NET_CONTINUE, VIR_NET_ERROR, VIR_NET_OK } from './protocol/virnet.js';

/** libvirt splits stream data into packets of at most this (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX). */
const STREAM_CHUNK = 256 * 1024 - 24;

export async function openConsoleStream(client: RemoteClient, dom: remote_nonnull_domain, devName: string | null): Promise<Duplex> {
  let serial = 0;
  let finished = false; // our direction ended or aborted: nothing more may be sent
  const send = (status: number, data?: Uint8Array) => client.sendStream(REMOTE, REMOTE_PROC_DOMAIN_OPEN_CONSOLE, serial, status, data);
  const duplex = new Duplex({
    read() {
      // data is pushed as it arrives; a console has no flow control beyond the socket's
    },
    write(chunk: Buffer, _encoding, callback) {
      try {
        for (let off = 0; off < chunk.length; off += STREAM_CHUNK) send(VIR_NET_CONTINUE, chunk.subarray(off, off + STREAM_CHUNK));
        callback();
      } catch (e) {
        callback(e as Error);
      }
    },
    final(callback) {
      finished = true;
      try {
        send(VIR_NET_OK);
        callback();
      } catch (e) {
        callback(e as Error);
      }
    },
    destroy(err, callback) {
      client.detachStream(serial);
      if (!finished && !client.closed) {
        finished = true;
        try {
          send(VIR_NET_ERROR); // abort: the daemon closes its end of the console
        } catch {
          // connection already gone
        }
      }
      callback(err);
    },
  });
  const sink: StreamSink = {
    data: (chunk) => duplex.push(chunk),
    end: () => duplex.push(null),
    error: (err: VirError) => duplex.destroy(err),
  };
  try {
    await client.call(REMOTE_PROC_DOMAIN_OPEN_CONSOLE, { dom, dev_name: devName, flags: 0 }, {
      onSerial: (s) => {
        serial = s;
        client.attachStream(s, sink);
      },
    });
  } catch (e) {
    client.detachStream(serial);
    throw e;
  }
  return duplex;
}
