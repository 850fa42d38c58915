/**
 * A helper process's stdin/stdout as one Duplex (the ssh and ext transports). When the
 * process dies, the stream ends if it exited 0 and errors otherwise, with what it wrote to
 * stderr, so "Permission denied (publickey)" reaches the caller instead of a bare EOF.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { ErrorCode, ErrorDomain, virError } from '../../errors.js';
import { boundedAttempt } from './attempt.js';
import { systemError } from './errors.js';
import type { OpenTransportOptions } from './types.js';

/** Enough of stderr to explain a failure. */
const STDERR_KEEP = 8192;

export class ChildProcessStream extends Duplex {
  private stderrText = '';
  private exitReason: string | undefined;
  private stdoutEnded = false;
  private exitCode: number | null = null;

  constructor(
    readonly child: ChildProcess,
    private readonly describeFailure: (reason: string, stderr: string) => Error,
  ) {
    super({ allowHalfOpen: false });
    const { stdout, stderr, stdin } = child;
    if (!stdout || !stdin || !stderr) throw new Error('ChildProcessStream needs piped stdio');
    stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stdout.pause();
    });
    stdout.once('end', () => {
      this.stdoutEnded = true;
      this.settleIfDone();
    });
    stderr.on('data', (chunk: Buffer) => {
      this.stderrText = (this.stderrText + chunk.toString('utf8')).slice(-STDERR_KEEP);
    });
    // Writes after the process died fail with EPIPE; the exit decides what the caller sees.
    stdin.on('error', () => {});
    child.once('exit', (code, signal) => {
      this.exitReason = signal ? `killed by ${signal}` : `exited with status ${code}`;
      this.exitCode = code;
      this.settleIfDone();
    });
  }

  /** What the process wrote to stderr (the tail). */
  get stderr(): string {
    return this.stderrText;
  }

  private settleIfDone(): void {
    if (this.destroyed || !this.stdoutEnded || this.exitReason === undefined) return;
    if (this.exitCode === 0) this.push(null);
    else this.destroy(this.describeFailure(this.exitReason, this.stderrText.trim()));
  }

  override _read(): void {
    this.child.stdout?.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const stdin = this.child.stdin;
    if (!stdin || stdin.destroyed) {
      callback(this.describeFailure(this.exitReason ?? 'closed its input', this.stderrText.trim()));
      return;
    }
    stdin.write(chunk, () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.child.stdin?.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    if (this.exitReason === undefined) {
      this.child.kill('SIGTERM');
      // A helper that ignores SIGTERM must not outlive the connection.
      const t = setTimeout(() => {
        if (this.exitReason === undefined) this.child.kill('SIGKILL');
      }, 2_000);
      t.unref();
    }
    callback(error);
  }
}

/**
 * Start `command args` and wrap its stdio once it has started; a spawn failure (no such
 * program, not executable) rejects with VIR_ERR_SYSTEM_ERROR naming the program.
 */
export function spawnStream(
  command: string,
  args: string[],
  describe: string,
  options: OpenTransportOptions,
  describeFailure: (reason: string, stderr: string) => Error,
): Promise<ChildProcessStream> {
  let child: ChildProcess | undefined;
  return boundedAttempt<ChildProcessStream>(
    describe,
    options,
    (resolve, reject) => {
      child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const c = child;
      c.once('error', (e) => reject(systemError(`cannot run '${command}' for ${describe}`, e)));
      c.once('spawn', () => {
        c.removeAllListeners('error');
        c.on('error', () => {}); // a later kill() failure is not the caller's problem
        resolve(new ChildProcessStream(c, describeFailure));
      });
    },
    () => child?.kill('SIGKILL'),
  );
}

/** The error when the helper process dies: libvirt's "End of file while reading data" with the reason. */
export function helperDied(describe: string, what: string) {
  return (reason: string, stderr: string) =>
    virError(
      ErrorCode.SYSTEM_ERROR,
      ErrorDomain.RPC,
      `${describe}: ${what} ${reason}${stderr ? `: ${stderr}` : ' (no message on stderr)'}`,
    );
}
