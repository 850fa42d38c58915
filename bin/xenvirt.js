#!/usr/bin/env node
// The `xenvirt` command: a thin launcher for the built CLI. It loads the CommonJS build
// (dist/cli.cjs) with require: that skips the ES module loader's start-up and the scan of
// CommonJS dependencies for named exports, ~40% of a `xenvirt list` process (issue 15).
import { createRequire } from 'node:module';

try {
  createRequire(import.meta.url)('../dist/cli.cjs')
    .main()
    .catch(fail);
} catch (e) {
  fail(e);
}

function fail(e) {
  process.stderr.write(`error: ${e && e.message ? e.message : e} (VIR_ERR_INTERNAL_ERROR)\n`);
  process.exitCode = 1;
}
