/**
 * Running Xen's `xl`: no shell (arguments go to execve as they are, so nothing in a
 * name or path is interpreted), a bounded time, and xl's own stderr as the message of
 * the VirError when it fails.
 */
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { ErrorCode, ErrorDomain, VirError } from '../../errors.js';

export interface XlOutput {
  stdout: string;
  stderr: string;
}

/** Find an executable on PATH (plus the sbin dirs where Debian puts xl). */
export async function findExecutable(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  if (name.includes('/')) return (await access(name, constants.X_OK).then(() => true, () => false)) ? name : undefined;
  const dirs = [...path.split(delimiter).filter(Boolean), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    const p = join(d, name);
    if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
  }
  return undefined;
}

/** The last lines of xl's stderr: where it says what went wrong. */
function stderrSummary(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.slice(-6).join(' | ');
}

function codeFor(stderr: string): string {
  if (/invalid domain identifier|domain .* does not exist|No such domain/i.test(stderr)) return ErrorCode.NO_DOMAIN;
  if (/already exists/i.test(stderr)) return ErrorCode.DOM_EXIST;
  if (/permission denied|must be run as root/i.test(stderr)) return ErrorCode.OPERATION_DENIED;
  return ErrorCode.OPERATION_FAILED;
}

export async function runXl(xl: string, args: readonly string[], timeoutMs: number): Promise<XlOutput> {
  // Loaded on the first xl call: node:child_process pulls in net and stream, which a
  // xen:/// open that never runs xl (listing) should not pay for (issue 15).
  const { execFile } = await import('node:child_process');
  return new Promise((resolveP, reject) => {
    execFile(
      xl,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 32 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' }, windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) return resolveP({ stdout, stderr });
        const e = error as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
        const cmd = `xl ${args[0] ?? ''}`.trim();
        if (e.code === 'ENOENT' || e.code === 'EACCES') {
          return reject(new VirError(`cannot run ${xl}: ${e.message}`, { code: ErrorCode.NO_SUPPORT, domain: ErrorDomain.XEN, syscall: String(e.code), cause: e }));
        }
        if (e.killed) {
          return reject(new VirError(`${cmd} did not finish within ${timeoutMs} ms and was killed${stderr ? `: ${stderrSummary(stderr)}` : ''}`, { code: ErrorCode.OPERATION_TIMEOUT, domain: ErrorDomain.XEN, cause: e }));
        }
        const said = stderrSummary(stderr) || stderrSummary(stdout) || `exit status ${String(e.code)}`;
        reject(new VirError(`${cmd} failed: ${said}`, { code: codeFor(stderr), domain: ErrorDomain.XEN, cause: e }));
      },
    );
  });
}
