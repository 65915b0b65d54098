#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled output (npm install runs `prepare`, which builds it).
import('../dist/src/cli/main.js')
  .then((m) => m.runCli(process.argv.slice(2)))
  .catch((err) => {
    process.stderr.write(`cftunnel: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
