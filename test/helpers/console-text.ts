/**
 * Read a guest console stream until its text matches a pattern, for suites that check a
 * guest's output through `Domain.openConsole()` (QEMU guests on the host, Xen guests in dom0).
 */
import type { Duplex } from 'node:stream';

/** The console text up to the first match of `pattern`; rejects after `timeoutMs` with the text seen. Destroys the stream. */
export async function readConsoleUntil(stream: Duplex, pattern: RegExp, timeoutMs: number): Promise<string> {
  let text = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${pattern} on the console within ${timeoutMs / 1000} s; got: ${JSON.stringify(text.slice(-500))}`)),
        timeoutMs,
      );
      stream.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (pattern.test(text)) {
          clearTimeout(timer);
          resolve();
        }
      });
      stream.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  } finally {
    stream.destroy();
  }
  return text;
}
