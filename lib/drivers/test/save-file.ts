/**
 * The test driver's save image: a header line, the run state, then the domain XML.
 * Written atomically; read with a size bound and a strict header check.
 */
import { readFile, stat } from 'node:fs/promises';
import { VirError, ErrorCode, ErrorDomain } from '../../errors.js';
import { writeFileAtomic } from '../../fs-atomic.js';
import type { DomainState } from '../../driver.js';

const MAGIC = 'xenvirt-test-save 1';
const MAX_SIZE = 16 * 1024 * 1024;

function fail(code: string, message: string): VirError {
  return new VirError(message, { code, domain: ErrorDomain.TEST });
}

export async function writeSaveImage(path: string, xml: string, state: DomainState): Promise<void> {
  try {
    await writeFileAtomic(path, `${MAGIC}\nstate ${state}\n${xml}`, 0o600);
  } catch (e) {
    throw fail(ErrorCode.WRITE_FAILED, `cannot write save image '${path}': ${(e as Error).message}`);
  }
}

export async function readSaveImage(path: string): Promise<{ xml: string; state: DomainState }> {
  let text: string;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw fail(ErrorCode.INVALID_ARG, `save image '${path}' is not a regular file`);
    if (st.size > MAX_SIZE) throw fail(ErrorCode.INVALID_ARG, `save image '${path}' is too large (${st.size} bytes)`);
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof VirError) throw e;
    throw fail(ErrorCode.READ_FAILED, `cannot read save image '${path}': ${(e as Error).message}`);
  }
  const lines = text.split('\n');
  if (lines[0] !== MAGIC) throw fail(ErrorCode.INVALID_ARG, `'${path}' is not a xenvirt test save image (bad header)`);
  const m = /^state (running|paused)$/.exec(lines[1] ?? '');
  if (!m) throw fail(ErrorCode.INVALID_ARG, `save image '${path}' has a malformed state line`);
  return { state: m[1] as DomainState, xml: lines.slice(2).join('\n') };
}
