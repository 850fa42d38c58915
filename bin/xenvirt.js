#!/usr/bin/env node
// The `xenvirt` command: a thin launcher for the built CLI (dist/cli.js).
import('../dist/cli.js')
  .then((cli) => cli.main())
  .catch((e) => {
    process.stderr.write(`error: ${e && e.message ? e.message : e} (VIR_ERR_INTERNAL_ERROR)\n`);
    process.exitCode = 1;
  });
