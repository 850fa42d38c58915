import { readFileSync, writeFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

/**
 * Make the CLI bundle pure ASCII: esbuild escapes non-ASCII characters in code (charset
 * below) but keeps some comments as written. Each remaining character becomes a \u escape,
 * which means the same in comments, strings, regular expressions and identifiers. An ASCII
 * bundle is read into a one-byte string (lib/cli/code-cache.ts), ~2 ms less on this
 * machine than decoding UTF-8 into a two-byte one, and half the memory V8 scans.
 */
function asciiOnly(file: string): void {
  const text = readFileSync(file, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) writeFileSync(file, ascii);
}

// One build, two module systems: ESM (.js) and CommonJS (.cjs) with typings for both.
export default defineConfig({
  // cli-start: the launcher bin/xenvirt.js requires; it loads cli through a V8 code cache.
  entry: { index: 'lib/index.ts', cli: 'lib/cli/main.ts', 'cli-start': 'lib/cli/start.ts', 'proxy-daemon': 'lib/proxy/daemon.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'lib/index.ts' } },
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  shims: true, // import.meta.url in the CJS build (the addon loader needs it)
  splitting: false,
  // saxes (and its xmlchars) inside the bundle: no package resolution and file reads for
  // them when a CLI process starts; ~20% of a test:/// listing's own CPU time (issue 15).
  noExternal: ['saxes'],
  onSuccess: async () => asciiOnly('dist/cli.cjs'),
  // CommonJS: import() of node built-ins (lazy imports) becomes require(). The CLI runs its
  // bundle through vm.Script with a code cache (lib/cli/code-cache.ts), where import() has
  // no loader to call, and require() is also the cheaper of the two.
  esbuildOptions(options, { format }) {
    if (format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false };
    options.charset = 'ascii'; // see asciiOnly()
  },
});
