/**
 * xl judges xenvirt's converters (issue 14): every config of test/xl-corpus/ and Debian's
 * /etc/xen/xlexample.* goes through `xl create -n` (dry run: parse and print the libxl
 * domain config as JSON; it needs a running Xen, hence dom0) as written and after a round
 * trip through xenvirt (xl config -> domain XML -> xl config). The two must mean the same
 * under the rule in ../xl-judge-helpers.ts (libxl defaults made explicit count as equal).
 * Configs whose header says `# expect-reject: KEY` must be refused with a VirError naming
 * KEY, and xl must accept them (so the refusal is xenvirt's choice, not a broken file).
 * Every JSON document is kept in $XENVIRT_XEN_RESULTS/xl-judge/ for inspection.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { xmlFromNative, xmlToNative } from '../../../lib/index.js';
import { VirError } from '../../../lib/errors.js';
import { inDom0, notInDom0Reason } from '../helpers.js';
import { compareLibxlConfigs, corpusEntries, parseDryRun, setsUuid } from '../xl-judge-helpers.js';

const run = promisify(execFile);
const here = inDom0();
if (!here) console.warn(`xl-judge.xen: skipped (${notInDom0Reason})`);

const work = mkdtempSync(join(tmpdir(), 'xl-judge-'));
const keep = process.env.XENVIRT_XEN_RESULTS ? join(process.env.XENVIRT_XEN_RESULTS, 'xl-judge') : work;
mkdirSync(keep, { recursive: true });

async function dryRun(file: string): Promise<unknown> {
  try {
    const { stdout } = await run('xl', ['create', '-n', '-f', file], { timeout: 60_000, maxBuffer: 16 << 20 });
    return parseDryRun(stdout);
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`xl create -n -f ${file} failed: ${err.stderr?.trim() ?? err.message}`);
  }
}

describe.skipIf(!here)('xl judges the xl round trip (xl create -n)', () => {
  const entries = here ? corpusEntries({ debianExamples: true }) : [];

  it('has the corpus and Debian\'s examples', () => {
    expect(entries.length).toBeGreaterThanOrEqual(25);
    expect(entries.filter((e) => e.name.startsWith('debian-')).length).toBe(3);
  });

  for (const entry of entries) {
    if (entry.expectReject) {
      it(`${entry.name}: xl accepts it, xenvirt refuses it naming '${entry.expectReject}'`, async () => {
        const json = await dryRun(entry.path);
        writeFileSync(join(keep, `${entry.name}.orig.json`), JSON.stringify(json, null, 2));
        let caught: unknown;
        try {
          xmlFromNative('xen-xl', entry.text);
        } catch (e) {
          caught = e;
        }
        expect(caught).toBeInstanceOf(VirError);
        expect((caught as VirError).message).toContain(entry.expectReject!);
      });
      continue;
    }
    it(`${entry.name}: same libxl config after xl -> XML -> xl`, async () => {
      const xml = xmlFromNative('xen-xl', entry.text);
      const back = xmlToNative('xen-xl', xml);
      const backFile = join(work, `${entry.name}.round.cfg`);
      writeFileSync(backFile, back);
      writeFileSync(join(keep, `${entry.name}.round.cfg`), back);
      writeFileSync(join(keep, `${entry.name}.xml`), xml);
      const original = await dryRun(entry.path);
      const roundTrip = await dryRun(backFile);
      writeFileSync(join(keep, `${entry.name}.orig.json`), JSON.stringify(original, null, 2));
      writeFileSync(join(keep, `${entry.name}.round.json`), JSON.stringify(roundTrip, null, 2));
      const diffs = compareLibxlConfigs(original, roundTrip, { ignoreUuid: !setsUuid(entry.text) });
      expect(diffs, `round trip:\n${back}`).toEqual([]);
    });
  }
});
