/**
 * Access to libvirt's conformance fixtures (outside the repo: ../shared/conformance/libvirt
 * or $XENVIRT_CONFORMANCE_DIR) for the tests that use them as seeds or inputs. Nothing is
 * copied into the repo; when the directory is absent the helpers return nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR =
  process.env['XENVIRT_CONFORMANCE_DIR'] ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/conformance/libvirt');

export function fixturesAvailable(): boolean {
  return existsSync(join(FIXTURE_DIR, 'MANIFEST.tsv'));
}

export interface FixtureCase {
  dir: string;
  test: string;
  direction: string;
  input: string;
  expected: string;
}

/** Every manifest case with its input text (continuations joined, as libvirt loads it). */
export function fixtureCases(): FixtureCase[] {
  if (!fixturesAvailable()) return [];
  const lines = readFileSync(join(FIXTURE_DIR, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1).filter((l) => l.trim());
  return lines.map((l) => {
    const [dir, test, direction, input, expected] = l.split('\t') as [string, string, string, string, string];
    return { dir, test, direction, input, expected };
  });
}

export function readFixture(dir: string, file: string): string {
  return readFileSync(join(FIXTURE_DIR, dir, file), 'utf8').replace(/\\\n/g, '');
}
