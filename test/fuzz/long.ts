/**
 * Long fuzzing run: `node --import tsx test/fuzz/long.ts [--runs N] [--seed S] [--only substring]`.
 * Default 1,000,000 inputs per decoder with a random seed (printed, so a failure can be replayed with --seed).
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { FUZZ_TARGETS } from './targets.js';

/** A single input taking this long is a hang. */
const PER_INPUT_TIMEOUT_MS = 10_000;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '1000000' }, seed: { type: 'string' }, only: { type: 'string' } },
  });
  const runs = Number(values.runs);
  const seed = values.seed === undefined ? (Math.random() * 2 ** 31) | 0 : Number(values.seed);
  let failed = 0;
  for (const target of FUZZ_TARGETS) {
    if (values.only !== undefined && !target.name.includes(values.only)) continue;
    const started = Date.now();
    const details = await fc.check(target.property(), {
      numRuns: runs,
      seed,
      timeout: PER_INPUT_TIMEOUT_MS,
      endOnFailure: process.env.FUZZ_NO_SHRINK === '1',
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (details.failed) {
      failed++;
      console.log(`FAIL ${target.name} (seed ${seed}) after ${details.numRuns} inputs, ${seconds} s`);
      console.log(fc.defaultReportMessage(details));
    } else {
      console.log(`ok   ${target.name}: ${details.numRuns} inputs, seed ${seed}, ${seconds} s`);
    }
  }
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
