/** Runs the CLI from source (`node --import tsx test/helpers/run-cli.ts …`), so CLI tests need no build. */
import { runCli } from '../../src/cli/main.js';

await runCli(process.argv.slice(2));
