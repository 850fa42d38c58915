/**
 * Runs libvirt's own Xen converter fixtures through xenvirt's public API and compares
 * the way libvirt's tests do (see the fixtures' README): whole-file string equality after
 * joining backslash-newline continuations in the expected file; an output lacking the
 * expected file's final newline still matches.
 *
 * Fixtures: $XENVIRT_CONFORMANCE_DIR, else ../shared/conformance/libvirt beside the repo.
 * Usage: npm run conformance [-- FILTER]   (FILTER: substring of "dir/test/direction")
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { xmlFromNative, xmlToNative, xenCapabilities } from '../lib/index.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.env['XENVIRT_CONFORMANCE_DIR'] ?? resolve(repo, '../shared/conformance/libvirt');
const manifest = join(dir, 'MANIFEST.tsv');
if (!existsSync(manifest)) {
  // Under CI a missing fixture set is a failure, never a green skip.
  if (process.env['CI'] === 'true') {
    console.log(`conformance: FAILED: fixtures not found at ${dir} (CI=true; set XENVIRT_CONFORMANCE_DIR)`);
    process.exit(1);
  }
  console.log(`conformance: skipped: fixtures not found at ${dir} (set XENVIRT_CONFORMANCE_DIR)`);
  process.exit(0);
}

const filter = process.argv[2];
const verbose = process.env['VERBOSE'] === '1';
// libvirt's xl tests substitute their firmware directory; ours is the libxl default.
const FIRMWARE_DIR = '/usr/lib/xen/boot';
const CAPS_ARCH: Record<string, string> = { VIR_ARCH_I686: 'i686', VIR_ARCH_X86_64: 'x86_64', VIR_ARCH_ITANIUM: 'ia64', VIR_ARCH_PPC64: 'ppc64' };

const read = (sub: string, f: string) => readFileSync(join(dir, sub, f), 'utf8');
// libvirt loads every fixture (input and expected) this way.
const expectedText = (s: string) => s.replace(/\\\n/g, "");

function firstDiff(actual: string, expected: string): string {
  const a = actual.split('\n');
  const e = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) return `line ${i + 1}:\n      expected: ${JSON.stringify(e[i] ?? '<end>')}\n      actual:   ${JSON.stringify(a[i] ?? '<end>')}`;
  }
  return '(no line differs)';
}

let passed = 0;
const failures: string[] = [];
const lines = readFileSync(manifest, 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
for (const line of lines) {
  const [sub, test, direction, input, expected, params = ''] = line.split('\t') as string[];
  const label = `${sub}/${test}/${direction}`;
  if (filter && !label.includes(filter)) continue;
  let actual: string;
  let want = expectedText(read(sub!, expected!));
  try {
    if (direction === 'sexpr->xml') actual = xmlFromNative('xen-sxpr', expectedText(read(sub!, input!)));
    else if (direction === 'xml->sexpr') actual = xmlToNative('xen-sxpr', read(sub!, input!));
    else if (direction === 'cpuinfo+caps->capsxml') {
      const [cpuinfo, caps] = input!.split(' + ');
      const arch = CAPS_ARCH[/hostarch=(\w+)/.exec(params)?.[1] ?? ''];
      if (!arch) throw new Error(`unknown host arch in '${params}'`);
      actual = xenCapabilities({ arch, cpuinfo: read(sub!, cpuinfo!), capabilities: read(sub!, caps!), hypervisorMajor: 0 });
    } else {
      const format = sub === 'xlconfigdata' ? 'xen-xl' : 'xen-xm';
      let inText = read(sub!, input!);
      if (params.includes('/LIBXL_FIRMWARE_DIR')) {
        inText = inText.replaceAll('/LIBXL_FIRMWARE_DIR', FIRMWARE_DIR);
        want = want.replaceAll('/LIBXL_FIRMWARE_DIR', FIRMWARE_DIR);
      }
      if (direction === 'cfg->xml') actual = xmlFromNative(format, inText);
      else if (direction === 'xml->cfg') actual = xmlToNative(format, inText);
      else throw new Error(`unknown direction '${direction}'`);
    }
  } catch (e) {
    failures.push(`${label}: threw ${(e as Error).message}`);
    continue;
  }
  if (actual === want || actual + '\n' === want) passed++;
  else failures.push(`${label}: output differs at ${firstDiff(actual, want)}${verbose ? `\n--- actual ---\n${actual}` : ''}`);
}
for (const f of failures) console.log(`FAIL ${f}`);
console.log(`conformance: ${passed} passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);
