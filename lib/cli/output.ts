/**
 * The CLI's stdout and stderr writes. They go to the file descriptor with a blocking
 * write: merely creating process.stdout for a pipe loads node's net and stream modules
 * (~5 ms of a ~25 ms node start-up; CLI start-up, issue 15), and a command prints its
 * answer once, at the end.
 *
 * A descriptor the caller made non-blocking answers EAGAIN when full; from then on that
 * descriptor's output goes through node's stream, which waits, so nothing is reordered.
 * A reader that went away (EPIPE, `xenvirt list | head -1`) ends the output quietly.
 */
import { writeSync } from 'node:fs';

const viaStream = new Set<1 | 2>();

export function writeToFd(fd: 1 | 2, text: string): void {
  const stream = () => (fd === 1 ? process.stdout : process.stderr);
  if (viaStream.has(fd)) {
    stream().write(text);
    return;
  }
  const buf = Buffer.from(text);
  let done = 0;
  while (done < buf.length) {
    try {
      done += writeSync(fd, buf, done);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw e;
      viaStream.add(fd);
      stream().write(buf.subarray(done));
      return;
    }
  }
}
