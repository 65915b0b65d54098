/**
 * `cftunnel/untun`: the API of the `untun` package (`startTunnel` → `{ getURL, close }`) on top of
 * {@link startQuickTunnel}, so an untun user changes one import and no cloudflared binary is downloaded or spawned.
 *
 * Differences from untun: nothing is installed, so there is no notice to accept and the result is never `undefined`;
 * no process signal handlers are installed (call `close()` yourself); `extraArgs` only accepts `--no-autoupdate`.
 */
import { TunnelOptionsError } from '../tunnel.js';
import { startQuickTunnel, type QuickTunnelOptions } from './start.js';

/** untun's options. */
export interface TunnelOptions {
  /** Local server URL; default `{protocol}://{hostname}:{port}`. */
  url?: string;
  /** Local port when `url` is not given; default 3000. */
  port?: number | string;
  /** Local hostname when `url` is not given; default `localhost`. */
  hostname?: string;
  /** Local protocol when `url` is not given; default `http`. */
  protocol?: 'http' | 'https';
  /** Verify the local server's TLS certificate; default false (untun passes `--no-tls-verify`). */
  verifyTLS?: boolean;
  /** Accepted for compatibility: there is no binary to install, so there is nothing to accept. */
  acceptCloudflareNotice?: boolean;
  /** cloudflared arguments; only `--no-autoupdate` (no effect) is accepted. */
  extraArgs?: string[];
}

/** untun's tunnel handle. */
export interface Tunnel {
  /** The public `https://….trycloudflare.com` URL. */
  getURL: () => Promise<string>;
  /** Closes the tunnel. */
  close: () => Promise<void>;
}

/** cftunnel-only settings for the quick tunnel behind the untun API (service URL, edge, logger, …). */
export type CftunnelQuickOptions = Omit<QuickTunnelOptions, 'origin' | 'originRequest'>;

/** Extra arguments with no effect on a quick tunnel run by cftunnel. */
const NO_EFFECT_ARGS = new Set(['--no-autoupdate']);

/** The origin URL untun derives from its options. */
export function untunOriginUrl(opts: TunnelOptions): string {
  return opts.url || `${opts.protocol || 'http'}://${opts.hostname ?? 'localhost'}:${opts.port ?? 3000}`;
}

/**
 * untun's `startTunnel`: resolves once the tunnel's connection is registered.
 *
 * @param quick - cftunnel settings (e.g. `serviceUrl`, `edge`, `caCert`, `logger`) for the tunnel behind it.
 */
export async function startTunnel(opts: TunnelOptions, quick: CftunnelQuickOptions = {}): Promise<Tunnel> {
  const unsupported = (opts.extraArgs ?? []).filter((a) => !NO_EFFECT_ARGS.has(a));
  if (unsupported.length > 0)
    throw new TunnelOptionsError(
      'extraArgs',
      `${unsupported.join(' ')} are not supported by cftunnel/untun; use the second argument`,
    );
  const tunnel = await startQuickTunnel({
    ...quick,
    origin: untunOriginUrl(opts),
    originRequest: { noTLSVerify: !opts.verifyTLS },
  });
  return {
    getURL: () => Promise.resolve(tunnel.url),
    close: () => tunnel.close(),
  };
}
