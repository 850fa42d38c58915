/**
 * The conformance runner compares like libvirt's tests: backslash-newline joins in the
 * expected file, a missing final newline tolerated, anything else an exact mismatch with
 * the first differing line shown. Checked here on a tiny manifest of our own.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { xmlFromNative } from '../../lib/index.js';

const repo = resolve(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'xenvirt-conf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(env: Record<string, string>): { out: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'scripts/conformance.ts')], {
    cwd: repo,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { out: r.stdout + r.stderr, status: r.status };
}

describe('conformance runner', () => {
  it('passes matching cases, joins continuations, and reports the first differing line', () => {
    const sexpr = "(domain (name 'r')(uuid '0123456789abcdef0123456789abcdef')(memory 64)(vcpus 1)(bootloader '/b'))";
    const xml = xmlFromNative('xen-sxpr', sexpr);
    mkdirSync(join(dir, 'sexpr2xmldata'));
    writeFileSync(join(dir, 'sexpr2xmldata', 'a.sexpr'), sexpr.replace("(memory 64)", "(memory \\\n64)"));
    writeFileSync(join(dir, 'sexpr2xmldata', 'a.xml'), xml.replace('<name>r</name>', '<name>\\\nr</name>'));
    writeFileSync(join(dir, 'sexpr2xmldata', 'b.xml'), xml + '\n'); // output lacks the file's final newline: still a match
    writeFileSync(join(dir, 'sexpr2xmldata', 'c.xml'), xml.replace('<vcpu placement=\'static\'>1</vcpu>', '<vcpu>9</vcpu>'));
    writeFileSync(
      join(dir, 'MANIFEST.tsv'),
      'dir\ttest\tdirection\tinput\texpected\tparams\tguard\n' +
        ['a', 'b', 'c'].map((t) => `sexpr2xmldata\t${t}\tsexpr->xml\ta.sexpr\t${t}.xml\t\t`).join('\n') +
        '\n',
    );
    const r = run({ XENVIRT_CONFORMANCE_DIR: dir });
    expect(r.out).toContain('FAIL sexpr2xmldata/c/sexpr->xml: output differs at line 6:');
    expect(r.out).toContain(`expected: "  <vcpu>9</vcpu>"`);
    expect(r.out.trim().split('\n').pop()).toBe('conformance: 2 passed, 1 failed');
    expect(r.status).toBe(1);
  });

  it('outside CI, skips with a one-line reason when the fixtures are absent', () => {
    const r = run({ XENVIRT_CONFORMANCE_DIR: join(dir, 'missing'), CI: '' });
    expect(r.out.trim()).toMatch(/^conformance: skipped: fixtures not found at .*missing/);
    expect(r.out.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(0);
  });

  it('under CI=true, fails when the fixtures are absent', () => {
    const r = run({ XENVIRT_CONFORMANCE_DIR: join(dir, 'missing'), CI: 'true' });
    expect(r.out).toMatch(/conformance: FAILED: fixtures not found/);
    expect(r.status).toBe(1);
  });
});
