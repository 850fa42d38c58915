/**
 * A quick, fixed-seed slice of the converter fuzzing (the ≥100k-per-parser run is
 * `npm run fuzz`): mutated documents must produce a result or a VirError, nothing else.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_SEEDS, fuzzTarget, mutate, rng, TARGETS } from '../../scripts/fuzz-mutate.js';
import { fixtureCases, readFixture } from './fixtures.js';

const CASES = 1500;

function seedsFor(t: (typeof TARGETS)[number]): string[] {
  const s = [...BUILTIN_SEEDS[t]];
  for (const c of fixtureCases()) {
    if (t === 'sexpr' && c.direction === 'sexpr->xml') s.push(readFixture(c.dir, c.input));
    if (t === 'xl' && c.dir === 'xlconfigdata' && c.direction === 'cfg->xml') s.push(readFixture(c.dir, c.input));
    if (t === 'xm' && c.dir === 'xmconfigdata' && c.direction === 'cfg->xml') s.push(readFixture(c.dir, c.input));
  }
  return s;
}

describe('converter fuzzing (quick slice)', () => {
  it('mutations are reproducible from the seed and actually change the input', () => {
    const a = mutate('(domain (name x))', rng(7), []);
    expect(mutate('(domain (name x))', rng(7), [])).toBe(a);
    let changed = 0;
    const r = rng(1);
    for (let i = 0; i < 50; i++) if (mutate('(domain (name x))', r, []) !== '(domain (name x))') changed++;
    expect(changed).toBeGreaterThan(40);
  });

  for (const t of TARGETS) {
    it(`${t}: ${CASES} mutated documents give results or VirErrors only`, () => {
      const rep = fuzzTarget(t, seedsFor(t), CASES, 20261126);
      expect(rep.crashes).toEqual([]);
      // both outcomes occur, so the mutations exercise the error paths and the happy path
      expect(rep.errors).toBeGreaterThan(0);
      expect(rep.ok).toBeGreaterThan(0);
      expect(rep.slowest).toBeLessThan(10_000); // a hang, not a speed check
    });
  }
});
