/**
 * RelaxNG validation against libvirt 11.3.0's schemas, for any suite that emits XML.
 *
 * The schemas are fetched by .ci/setup.d/10-relaxng.sh into .cache/libvirt-schemas/ and
 * xmllint comes from libxml2-utils. When either is missing, `relaxngAvailable()` is false
 * and `relaxngMissingReason()` says why (tests skip locally, and must fail under CI=true).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCHEMA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../.cache/libvirt-schemas');

function hasXmllint(): boolean {
  return spawnSync('xmllint', ['--version'], { stdio: 'ignore' }).status === 0;
}

let cached: string | null | undefined;
/** Why validation cannot run here, or null when it can. */
export function relaxngMissingReason(): string | null {
  if (cached !== undefined) return cached;
  if (!hasXmllint()) cached = 'xmllint not installed (run .ci/setup.d/10-relaxng.sh)';
  else if (!existsSync(join(SCHEMA_DIR, 'domain.rng'))) cached = `libvirt schemas not in ${SCHEMA_DIR} (run .ci/setup.d/10-relaxng.sh)`;
  else cached = null;
  return cached;
}

export function relaxngAvailable(): boolean {
  return relaxngMissingReason() === null;
}

export interface ValidationResult {
  ok: boolean;
  /** xmllint's messages when the document does not validate. */
  errors: string;
}

/** Validate several documents against one schema in a single xmllint run. */
export function validateMany(docs: string[], schema = 'domain.rng'): ValidationResult[] {
  const why = relaxngMissingReason();
  if (why) throw new Error(why);
  if (docs.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), 'xenvirt-rng-'));
  try {
    const files = docs.map((d, i) => {
      const f = join(dir, `doc${i}.xml`);
      writeFileSync(f, d);
      return f;
    });
    const r = spawnSync('xmllint', ['--noout', '--relaxng', join(SCHEMA_DIR, schema), ...files], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const out = `${r.stdout}\n${r.stderr}`;
    return files.map((f) => {
      const ok = out.includes(`${f} validates`);
      const errors = out
        .split('\n')
        .filter((l) => l.startsWith(f) && !l.endsWith(' validates'))
        .join('\n');
      return { ok, errors: ok ? '' : errors || out.trim() };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Validate one domain XML document against libvirt's domain.rng. */
export function validateDomainXML(xml: string): ValidationResult {
  return validateMany([xml], 'domain.rng')[0]!;
}

/** Validate one capabilities XML document against libvirt's capability.rng. */
export function validateCapabilitiesXML(xml: string): ValidationResult {
  return validateMany([xml], 'capability.rng')[0]!;
}
