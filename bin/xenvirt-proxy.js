#!/usr/bin/env node
// The `xenvirt-proxy` daemon: a thin launcher for the built entry (dist/proxy-daemon.js).
import('../dist/proxy-daemon.js')
  .then((d) => d.main())
  .catch((e) => {
    process.stderr.write(`xenvirt-proxy: error: ${e && e.message ? e.message : e} (VIR_ERR_INTERNAL_ERROR)\n`);
    process.exitCode = 1;
  });
