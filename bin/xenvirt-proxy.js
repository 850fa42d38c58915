#!/usr/bin/env node
// The `xenvirt-proxy` daemon: a thin launcher for the built entry (dist/proxy-daemon.cjs).
// CommonJS (bin/package.json), as bin/xenvirt.js.
'use strict';

try {
  require('../dist/proxy-daemon.cjs').main().catch(fail);
} catch (e) {
  fail(e);
}

function fail(e) {
  process.stderr.write(`xenvirt-proxy: error: ${e && e.message ? e.message : e} (VIR_ERR_INTERNAL_ERROR)\n`);
  process.exitCode = 1;
}
