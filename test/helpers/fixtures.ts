/** Paths into test/fixtures, resolved from this file so tests work from any working directory. */
import { fileURLToPath } from 'node:url';

const fixturesRoot = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Absolute path of a file under test/fixtures, e.g. `fixturePath('vectors/quic/get/data-e2c.0.bin')`. */
export function fixturePath(relative: string): string {
  return fixturesRoot + relative;
}
