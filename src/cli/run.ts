/** Source entry point (`node --import tsx src/cli/run.ts …`), used by tests so they need no build. */
import { runCli } from './main.js';

await runCli(process.argv.slice(2));
