/** The package version, read from package.json whether running from `src/` (tsx) or `dist/src/` (built). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** `version` of the cftunnel package.json (nearest of `../../` and `../../../` from this file). */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'cftunnel' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // Not there from this layout; try the next one.
    }
  }
  return (cached = 'unknown');
}
