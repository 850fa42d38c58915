import { defineConfig } from 'tsup';

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
  // CommonJS: import() of node built-ins (lazy imports) becomes require(). The CLI runs its
  // bundle through vm.Script with a code cache (lib/cli/code-cache.ts), where import() has
  // no loader to call, and require() is also the cheaper of the two.
  esbuildOptions(options, { format }) {
    if (format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false };
  },
});
