#!/usr/bin/env node
// The `xenvirt` command: a thin launcher for the built CLI, dist/cli.cjs (one self-contained
// bundle), which dist/cli-start.cjs compiles through a V8 code cache (lib/cli/code-cache.ts).
// This file is CommonJS (bin/package.json): an ES module entry would make node start its
// ES module loader and fs/promises first, ~15% of a `xenvirt list` process (issue 15).
'use strict';

try {
  require('../dist/cli-start.cjs')
    .start(require('node:path').join(__dirname, '..', 'dist'))
    .catch(fail);
} catch (e) {
  fail(e);
}

function fail(e) {
  process.stderr.write(`error: ${e && e.message ? e.message : e} (VIR_ERR_INTERNAL_ERROR)\n`);
  process.exitCode = 1;
}
