/**
 * The public API's own overhead, on the embedded test driver: connect('test:///default')
 * + lookup + getInfo, against libvirt's embedded test driver doing the same in C
 * (Debian's libvirt-dev; built on demand). Both sides in this run, same sample counts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '../../lib/index.js';
import { sampleMicros, stats, type BenchCase, type BenchRow } from '../harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const src = resolve(here, '../testdriver/libvirt-test-ref.c');
const bin = resolve(here, '../../build/bench/libvirt-test-ref');

function buildReference(): string | undefined {
  if (!existsSync('/usr/include/libvirt/libvirt.h')) return 'libvirt-dev is not installed (apt-get install libvirt-dev)';
  mkdirSync(dirname(bin), { recursive: true });
  execFileSync('gcc', ['-O2', '-o', bin, src, '-lvirt']);
  return undefined;
}

function referenceSamples(mode: 'open' | 'lookup', n: number): number[] {
  const out = execFileSync(bin, [mode, String(n)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return out.trim().split('\n').map(Number);
}

const N_OPEN = 2000;
const N_LOOKUP = 20000;

const testdriver: BenchCase = {
  suite: 'testdriver',
  async run() {
    const missing = buildReference();
    if (missing) return { skipped: missing };

    // Warm both sides up so JIT and page-cache effects do not land in the samples.
    referenceSamples('open', 50);
    await sampleMicros(200, async () => {
      const c = await connect('test:///default');
      await (await c.lookupDomainByName('test')).getInfo();
      await c.close();
    });

    const openX = await sampleMicros(N_OPEN, async () => {
      const c = await connect('test:///default');
      await (await c.lookupDomainByName('test')).getInfo();
      await c.close();
    });
    const openC = referenceSamples('open', N_OPEN);

    const conn = await connect('test:///default');
    const lookupX = await sampleMicros(N_LOOKUP, async () => {
      await (await conn.lookupDomainByName('test')).getInfo();
    });
    await conn.close();
    const lookupC = referenceSamples('lookup', N_LOOKUP);

    const row = (name: string, x: number[], c: number[]): BenchRow => {
      const xs = stats(x, 'µs/op');
      const cs = stats(c, 'µs/op');
      return {
        suite: 'testdriver',
        name,
        xenvirt: xs,
        reference: { ...cs, label: 'libvirt 9.0 test driver (C)' },
        ratio: xs.median / cs.median,
        better: 'lower',
      };
    };
    return [
      row('connect + lookup + getInfo + close', openX, openC),
      row('lookup + getInfo (open connection)', lookupX, lookupC),
    ];
  },
};
export default testdriver;
