/**
 * Bounded, seeded fuzzing of every decoder that reads edge-controlled bytes (the long run is `test/fuzz/long.ts`).
 * A failure prints the seed and the shrunk counterexample; replay it with FUZZ_SEED.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { FUZZ_TARGETS } from './targets.js';

/** Inputs per decoder in CI: enough to reach the mutation corners, small enough for a few seconds each. */
const CI_RUNS = 3000;
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
/** A single input taking this long is a hang. */
const PER_INPUT_TIMEOUT_MS = 5000;

for (const target of FUZZ_TARGETS) {
  test(`fuzz: ${target.name} only decodes or throws its typed error`, async () => {
    await fc.assert(target.property(), { numRuns: CI_RUNS, seed: SEED, timeout: PER_INPUT_TIMEOUT_MS });
  });
}
