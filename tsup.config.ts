import { defineConfig } from 'tsup';

// One build, two module systems: ESM (.js) and CommonJS (.cjs) with typings for both.
export default defineConfig({
  entry: { index: 'lib/index.ts', cli: 'lib/cli/main.ts', 'proxy-daemon': 'lib/proxy/daemon.ts' },
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
});
