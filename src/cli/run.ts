/** Source entry point (`node --import tsx src/cli/run.ts …`), used by tests so they need no build. */
import { main } from './main.js';

await main(process.argv.slice(2));
