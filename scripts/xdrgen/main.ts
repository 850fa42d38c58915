/**
 * xdrgen: libvirt's .x protocol files → TypeScript codecs.
 *   tsx scripts/xdrgen/main.ts OUT_DIR LABEL INCLUDE_DIR NAME=FILE.x [NAME=FILE.x …]
 * Each NAME=FILE.x becomes OUT_DIR/NAME.ts; a later file may use the types of the earlier
 * ones (qemu_protocol.x uses remote_protocol.x's), which it imports as `NAME`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseXdr } from './parse.js';
import { emitModule, type Dependency } from './emit.js';
import { INJECTED_CONSTANTS, emitInjectedModule } from './injected-constants.js';
import { emitCEnumsModule } from './c-enums.js';

const [outDir, label, includeDir, ...inputs] = process.argv.slice(2);
if (!outDir || !label || !includeDir || !inputs.length) {
  console.error('usage: main.ts OUT_DIR LABEL INCLUDE_DIR NAME=FILE.x [NAME=FILE.x …]');
  process.exit(2);
}
writeFileSync(join(outDir, 'injected-constants.ts'), emitInjectedModule());
writeFileSync(join(outDir, 'c-enums.ts'), emitCEnumsModule(includeDir, label));
const done: Dependency[] = [];
for (const input of inputs) {
  const eq = input.indexOf('=');
  const name = input.slice(0, eq);
  const file = input.slice(eq + 1);
  const defs = parseXdr(readFileSync(file, 'utf8'), basename(file));
  const code = emitModule({
    source: `${label} ${file.slice(file.lastIndexOf('/src/') + 1)}`,
    defs,
    deps: done,
    injected: INJECTED_CONSTANTS,
    injectedModule: './injected-constants.js',
  });
  writeFileSync(join(outDir, `${name}.ts`), code);
  done.push({ alias: name, module: `./${name}.js`, defs });
  console.log(`${name}.ts: ${defs.length} definitions`);
}
