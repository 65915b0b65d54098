#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled output (npm install runs `prepare`, which builds it). The heap flags
// go first, before the CLI allocates anything (src/cli/heap-flags.ts says why they are set here and not in a shebang).
import('../dist/src/cli/heap-flags.js')
  .then((heap) => {
    heap.applyCliHeapFlags();
    return import('../dist/src/cli/main.js');
  })
  .then((m) => m.runCli(process.argv.slice(2)))
  .catch((err) => {
    process.stderr.write(`cftunnel: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
