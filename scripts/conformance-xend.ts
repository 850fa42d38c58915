/**
 * libvirt 1.2.0's Xen fixtures for xend config versions 1-3 (xend 3.0.2 / 3.0.3 / 3.0.4),
 * run through xenvirt's public API with the version each case names, and compared by
 * meaning (scripts/conformance-meaning.ts: layout may differ, keys, values and devices may
 * not). Prints one line per failure, a count per version, and a closing line
 * "conformance: N passed, M failed … (libvirt 1.2.0, xend config versions 1-3)".
 *
 * Fixtures: $XENVIRT_CONFORMANCE_1_2_0_DIR, else libvirt-1.2.0 beside the main set
 * ($XENVIRT_CONFORMANCE_DIR/../libvirt-1.2.0, else ../shared/conformance/libvirt-1.2.0).
 * Under CI=true missing fixtures are a failure; elsewhere a one-line skip.
 * Usage: npm run conformance:xend [-- FILTER]   (FILTER: substring of "dir/test/direction/vN")
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { xmlFromNative, xmlToNative } from '../lib/index.js';
import { compareDomainXml, compareSexpr, compareXm, type MeaningDiff } from './conformance-meaning.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const mainDir = process.env['XENVIRT_CONFORMANCE_DIR'];
const dir =
  process.env['XENVIRT_CONFORMANCE_1_2_0_DIR'] ?? (mainDir ? resolve(mainDir, '../libvirt-1.2.0') : resolve(repo, '../shared/conformance/libvirt-1.2.0'));
const manifest = join(dir, 'MANIFEST.tsv');
const TAG = 'conformance (xend 1-3)';
if (!existsSync(manifest)) {
  if (process.env['CI'] === 'true') {
    console.log(`${TAG}: FAILED: fixtures not found at ${dir} (CI=true; set XENVIRT_CONFORMANCE_1_2_0_DIR)`);
    process.exit(1);
  }
  console.log(`${TAG}: skipped: fixtures not found at ${dir} (set XENVIRT_CONFORMANCE_1_2_0_DIR)`);
  process.exit(0);
}

const filter = process.argv[2];
const read = (sub: string, f: string) => readFileSync(join(dir, sub, f), 'utf8').replace(/\\\n/g, '');
const show = (d: MeaningDiff) => `${d.where}: expected ${JSON.stringify(d.expected)}, got ${JSON.stringify(d.actual)}`;

/**
 * Cases libvirt 1.2.0 compiled only in a build variant: the manifest keeps no guard for
 * them, but its test program does (#ifdef WITH_RHEL5_API: RHEL-5's Xen lacks the old-style
 * PV vnc settings). The default build's expectation for the same input and version is the
 * other manifest line, which runs; these are reported as not applicable.
 */
const BUILD_VARIANT: Record<string, string> = {
  'xml2sexprdata/pv-vfb-orig/xml->sexpr/xml2sexpr-pv-vfb-new.sexpr': 'WITH_RHEL5_API only (RHEL-5 Xen): the default build expects xml2sexpr-pv-vfb-orig.sexpr',
};

const perVersion = new Map<number, { passed: number; failed: number }>();
const notApplicable: string[] = [];
let passed = 0;
const failures: string[] = [];
const lines = readFileSync(manifest, 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
for (const line of lines) {
  const [sub, test, direction, input, expected, params = ''] = line.split('\t') as string[];
  const version = Number(/xendConfigVersion=(\d)/.exec(params)?.[1]);
  if (version !== 1 && version !== 2 && version !== 3) {
    failures.push(`${sub}/${test}/${direction}: no xendConfigVersion 1-3 in '${params}'`);
    continue;
  }
  const label = `${sub}/${test}/${direction}/v${version}`;
  if (filter && !label.includes(filter)) continue;
  const variant = BUILD_VARIANT[`${sub}/${test}/${direction}/${expected}`];
  if (variant) {
    notApplicable.push(`${label} (expected ${expected}): ${variant}`);
    continue;
  }
  const tally = perVersion.get(version) ?? { passed: 0, failed: 0 };
  perVersion.set(version, tally);
  const opts = { xendConfigVersion: version } as const;
  let diffs: MeaningDiff[];
  try {
    const inText = read(sub!, input!);
    const want = read(sub!, expected!);
    if (direction === 'sexpr->xml') diffs = compareDomainXml(want, xmlFromNative('xen-sxpr', inText, opts));
    else if (direction === 'xml->sexpr') diffs = compareSexpr(want, xmlToNative('xen-sxpr', inText, opts));
    else if (direction === 'cfg->xml') diffs = compareDomainXml(want, xmlFromNative('xen-xm', inText, opts));
    else if (direction === 'xml->cfg') diffs = compareXm(want, xmlToNative('xen-xm', inText, opts));
    else throw new Error(`unknown direction '${direction}'`);
  } catch (e) {
    diffs = [{ where: 'threw', expected: 'a result', actual: (e as Error).message }];
  }
  if (diffs.length === 0) {
    passed++;
    tally.passed++;
  } else {
    tally.failed++;
    failures.push(`${label}: ${diffs.slice(0, 4).map(show).join('; ')}${diffs.length > 4 ? ` (+${diffs.length - 4} more)` : ''}`);
  }
}
for (const f of failures) console.log(`FAIL ${f}`);
for (const n of notApplicable) console.log(`N/A  ${n}`);
for (const [v, t] of [...perVersion].sort((x, y) => x[0] - y[0])) console.log(`  xend config version ${v}: ${t.passed} passed, ${t.failed} failed`);
// The closing line reads like the main runner's so CI adds it to its count.
console.log(`conformance: ${passed} passed, ${failures.length} failed${notApplicable.length ? `, ${notApplicable.length} not applicable` : ''} (libvirt 1.2.0, xend config versions 1-3)`);
process.exit(failures.length === 0 ? 0 : 1);
