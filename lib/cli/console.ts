/**
 * `xenvirt console DOMAIN`: the guest console on the terminal, as `virsh console`.
 * Guest output goes to stdout, keystrokes to the guest; Ctrl-] leaves. When stdin is a
 * terminal it is put in raw mode (restored on the way out) so keys reach the guest as typed.
 */
import type { Duplex } from 'node:stream';

const ESCAPE = 0x1d; // Ctrl-]

export function attachConsole(stream: Duplex, name: string, stdin: NodeJS.ReadStream = process.stdin, stdout: NodeJS.WriteStream = process.stdout): Promise<void> {
  process.stderr.write(`Connected to domain '${name}'\nEscape character is ^] (Ctrl + ])\n`);
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      stdin.off('data', onKeys);
      if (raw) {
        stdin.setRawMode(false);
        stdin.pause();
      } else {
        stdin.destroy(); // a paused pipe still holds the event loop open; the session is over
      }
      stream.off('data', onOutput);
      if (!stream.destroyed) stream.destroy();
      if (err) reject(err);
      else resolve();
    };
    const onOutput = (chunk: Buffer) => stdout.write(chunk);
    const onKeys = (chunk: Buffer) => {
      const at = chunk.indexOf(ESCAPE);
      if (at >= 0) {
        if (at > 0) stream.write(chunk.subarray(0, at));
        done();
        return;
      }
      stream.write(chunk);
    };
    stream.on('data', onOutput);
    stream.once('end', () => done());
    stream.once('error', (e: Error) => done(e));
    stdin.on('data', onKeys);
    stdin.once('end', () => stream.end()); // piped input ran out: the guest sees end of stream, output keeps coming
    stdin.resume();
  });
}
