/**
 * §9.3 step 3: HTTP services load their CA pool when they start, and a pool that cannot be read rejects the whole
 * configuration (cloudflared `tlsconfig.LoadOriginCA`, wrapped as `Error loading cert pool`). Done after every rule
 * validated, as cloudflared starts origins only once the rules parsed, and asynchronously (see ingress/ca-pool.ts).
 */
import { readCaPool } from '../ingress/ca-pool.js';
import { IngressConfigError } from '../ingress/errors.js';
import type { TunnelConfig } from './remote-config.js';

/** Checks that every `caPool` an HTTP or Unix-socket rule names is a readable, bounded, regular file. */
export async function checkCaPools(config: TunnelConfig): Promise<void> {
  const checked = new Set<string>();
  for (const rule of config.ingress.rules) {
    const { caPool } = rule.originRequest;
    if (caPool === '' || checked.has(caPool) || (rule.service.kind !== 'http' && rule.service.kind !== 'unix'))
      continue;
    checked.add(caPool);
    try {
      await readCaPool(caPool);
    } catch (cause) {
      throw new IngressConfigError(`Error loading cert pool: ${(cause as Error).message}`, { cause });
    }
  }
}
