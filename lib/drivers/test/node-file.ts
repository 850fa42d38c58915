/**
 * `test:///ABSOLUTE/PATH.xml`: a node description a user writes to script their own
 * fixture host. Shape (libvirt's test driver reads the same):
 *
 *   <node>
 *     <cpu><mhz>2000</mhz><model>x86_64</model><active>4</active>
 *          <nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>2</threads></cpu>
 *     <memory>8388608</memory>                    <!-- KiB -->
 *     <domain type='test'>…</domain>              <!-- inline, starts running -->
 *     <domain file='guest.xml'/>                  <!-- or a file beside the node file -->
 *     <network>…</network>  <network file='net.xml'/>
 *   </node>
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve, relative } from 'node:path';
import { VirError, ErrorCode, ErrorDomain } from '../../errors.js';
import { parseXml, child, type XmlElement } from '../../xml/tree.js';
import { serializeElement } from '../../xml/serialize.js';
import { DEFAULT_NODE_INFO } from './defaults.js';
import type { HostDescription } from './host.js';

const MAX_FILE = 16 * 1024 * 1024;

function bad(message: string, code: string = ErrorCode.XML_ERROR): VirError {
  return new VirError(message, { code, domain: ErrorDomain.TEST });
}

async function readBounded(path: string, what: string): Promise<string> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw bad(`${what} '${path}' is not a regular file`, ErrorCode.INVALID_ARG);
    size = st.size;
  } catch (e) {
    if (e instanceof VirError) throw e;
    throw bad(`cannot read ${what} '${path}': ${(e as Error).message}`, ErrorCode.OPEN_FAILED);
  }
  if (size > MAX_FILE) throw bad(`${what} '${path}' is too large (${size} bytes; the limit is ${MAX_FILE})`, ErrorCode.INVALID_ARG);
  return readFile(path, 'utf8');
}

/** A `file=` reference must stay inside the node file's directory. */
function resolveRef(baseDir: string, ref: string, line: number): string {
  if (ref.includes('\0')) throw bad(`node file line ${line}: file reference contains NUL`, ErrorCode.INVALID_ARG);
  const full = isAbsolute(ref) ? ref : resolve(baseDir, ref);
  const rel = relative(baseDir, full);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw bad(`node file line ${line}: file reference '${ref}' points outside the node file's directory`, ErrorCode.INVALID_ARG);
  }
  return full;
}

function intChild(cpu: XmlElement, name: string, fallback: number): number {
  const el = child(cpu, name);
  if (!el) return fallback;
  const n = Number(el.text.trim());
  if (!Number.isSafeInteger(n) || n <= 0) throw bad(`node file line ${el.line}: <${name}> must be a positive integer, got '${el.text.trim()}'`);
  return n;
}

export async function loadNodeFile(path: string): Promise<HostDescription> {
  if (!isAbsolute(path)) throw bad(`test driver node file must be an absolute path, got '${path}'`, ErrorCode.INVALID_ARG);
  const root = parseXml(await readBounded(path, 'node file'));
  if (root.name !== 'node') throw bad(`node file '${path}': expected <node> as the root element, found <${root.name}>`);
  const baseDir = dirname(path);
  const desc: HostDescription = { nodeInfo: { ...DEFAULT_NODE_INFO }, hostname: 'testhost', domains: [], networks: [] };

  const cpu = child(root, 'cpu');
  if (cpu) {
    const info = desc.nodeInfo;
    info.mhz = intChild(cpu, 'mhz', info.mhz);
    info.cpus = intChild(cpu, 'active', info.cpus);
    info.nodes = intChild(cpu, 'nodes', info.nodes);
    info.sockets = intChild(cpu, 'sockets', info.sockets);
    info.cores = intChild(cpu, 'cores', info.cores);
    info.threads = intChild(cpu, 'threads', info.threads);
    const model = child(cpu, 'model')?.text.trim();
    if (model) info.model = model;
  }
  const mem = child(root, 'memory');
  if (mem) {
    const n = Number(mem.text.trim());
    if (!Number.isSafeInteger(n) || n <= 0) throw bad(`node file line ${mem.line}: <memory> must be a positive integer (KiB)`);
    desc.nodeInfo.memory = n;
  }
  for (const el of root.children) {
    if (el.name !== 'domain' && el.name !== 'network') continue;
    const ref = el.attrs.get('file');
    const xml = ref !== undefined ? await readBounded(resolveRef(baseDir, ref, el.line), `${el.name} file`) : serializeElement(el);
    (el.name === 'domain' ? desc.domains : desc.networks).push(xml);
  }
  return desc;
}
