/**
 * The long fuzz run: at least 100k mutated documents per parser (sexpr, xm, xl, domain
 * XML, capabilities), seeded from libvirt's fixtures when present. Exits 1 on any crash
 * (an exception that is not a VirError) or any single case slower than 10 s (a hang; the
 * bound is loose because the machine may be shared).
 *
 *   npm run fuzz [-- --count N --seed S --only sexpr,xl]   (nightly size: --count 1000000)
 */
import { fixtureCases, readFixture } from '../test/convert/fixtures.js';
import { BUILTIN_SEEDS, fuzzTarget, TARGETS, type Target } from './fuzz-mutate.js';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
// --count is the name for it (npm run fuzz -- --count 1000000); --cases still works.
const cases = Number(opt('count') ?? opt('cases') ?? 100_000);
if (!Number.isSafeInteger(cases) || cases < 1) {
  console.log(`fuzz: --count must be a positive integer, not '${opt('count') ?? opt('cases')}'`);
  process.exit(2);
}
const seed = Number(opt('seed') ?? Date.now() % 2 ** 31);
const only = opt('only')?.split(',') as Target[] | undefined;

const seeds: Record<Target, string[]> = { sexpr: [], xm: [], xl: [], xml: [], caps: [] };
for (const t of TARGETS) seeds[t].push(...BUILTIN_SEEDS[t]);
for (const c of fixtureCases()) {
  if (c.direction === 'sexpr->xml') seeds.sexpr.push(readFixture(c.dir, c.input));
  else if (c.direction === 'cfg->xml') seeds[c.dir === 'xlconfigdata' ? 'xl' : 'xm'].push(readFixture(c.dir, c.input));
  else if (c.direction === 'xml->sexpr' || c.direction === 'xml->cfg') seeds.xml.push(readFixture(c.dir, c.input));
  else if (c.direction.startsWith('cpuinfo')) {
    const [cpu, caps] = c.input.split(' + ');
    seeds.caps.push(`${readFixture(c.dir, caps!).trim()}\n${readFixture(c.dir, cpu!)}`);
  }
}

console.log(`fuzz: seed ${seed}, ${cases} cases per parser`);
let failed = false;
for (const t of only ?? TARGETS) {
  const t0 = performance.now();
  const rep = fuzzTarget(t, seeds[t], cases, seed);
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `${t.padEnd(5)} ${rep.cases} cases (${seeds[t].length} seeds) in ${secs.toFixed(1)} s: ${rep.ok} converted, ${rep.errors} VirErrors, ${rep.crashes.length} crashes, slowest ${rep.slowest.toFixed(1)} ms`,
  );
  for (const c of rep.crashes.slice(0, 3)) console.log(`  CRASH ${c.error}\n  input: ${JSON.stringify(c.input).slice(0, 400)}`);
  if (process.env['VERBOSE'] === '1') console.log(`  slowest input (${rep.slowestInput.length} chars): ${JSON.stringify(rep.slowestInput).slice(0, 300)}`);
  if (rep.crashes.length > 0 || rep.slowest > 10_000) failed = true;
}
console.log(failed ? 'fuzz: FAILED' : 'fuzz: no crashes');
process.exit(failed ? 1 : 0);
