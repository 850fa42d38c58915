// Preloaded (node -r) into a spawned CLI by startup.test.ts: at exit, writes to the file
// named by $XENVIRT_RECORD_MODULES which node built-ins the process loaded beyond node's
// own start-up, and every non-built-in the program required (with what required it).
'use strict';
const Module = require('node:module');
const { writeFileSync } = require('node:fs');

const atStart = new Set(process.moduleLoadList);
const required = [];
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (!isMain && !Module.isBuiltin(request)) required.push({ request, from: parent && parent.filename });
  return load.apply(this, arguments);
};
process.on('exit', () => {
  const builtins = process.moduleLoadList
    .filter((m) => !atStart.has(m) && m.startsWith('NativeModule '))
    .map((m) => m.slice('NativeModule '.length));
  writeFileSync(process.env.XENVIRT_RECORD_MODULES, JSON.stringify({ builtins, required }));
});
