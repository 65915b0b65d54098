/**
 * The part of a CLI run from building the connector on (docs/protocol.md §12.5): wait for the first connection or a
 * shutdown signal, write the pidfile, then serve until SIGINT/SIGTERM and close gracefully.
 */
import { writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { joinHostPort } from '../util/host-port.js';
import { EdgeTlsError } from '../transport/errors.js';
import type { Tunnel } from '../tunnel.js';
import { edgeTlsHint } from './edge-tls-hint.js';
import type { ConnectorSettings, ConnectorTunnelOptions } from './run-settings.js';
import type { ShutdownWaiter } from './signals.js';

/** What {@link serveUntilShutdown} needs. */
export interface ServeUntilShutdownOptions {
  /** Builds the connector (its constructor may throw on bad options). */
  createTunnel: () => Tunnel;
  logger: Logger;
  shutdown: ShutdownWaiter;
  /** Releases the keep-alive handle once everything is closed. */
  release: () => void;
  /** `--grace-period`, `--pidfile`, and `--cacert` (named by the hint logged when the edge's certificate is refused). */
  settings: Pick<ConnectorSettings, 'pidFile' | 'caCertPath'> & {
    tunnel: Pick<ConnectorTunnelOptions, 'gracePeriodMs'>;
  };
}

/**
 * Resolves after a graceful shutdown (exit code 0); throws the startup failure after closing the tunnel. A shutdown
 * signal during startup is not a failure.
 */
export async function serveUntilShutdown(o: ServeUntilShutdownOptions): Promise<void> {
  const { logger } = o;
  let tunnel: Tunnel;
  try {
    tunnel = o.createTunnel();
  } catch (err) {
    o.shutdown.dispose();
    o.release();
    throw err;
  }
  logger.info(`Generated Connector ID: ${tunnel.identity.connectorId}`);
  // Every redial against an edge whose certificate is refused fails the same way: say why once.
  let tlsHintLogged = false;
  tunnel.on('reconnecting', ({ connIndex, error, address }) => {
    if (tlsHintLogged || !(error instanceof EdgeTlsError)) return;
    tlsHintLogged = true;
    logger.error({ connIndex }, edgeTlsHint(error, joinHostPort(address.host, address.port), o.settings.caCertPath));
  });
  const startupAbort = new AbortController();
  const stopped = o.shutdown.signal.then(async (signal) => {
    logger.info(`Initiating graceful shutdown due to signal ${signal} ...`);
    startupAbort.abort();
    await tunnel.close({ graceMs: o.settings.tunnel.gracePeriodMs });
    logger.info('Tunnel server stopped');
  });
  try {
    await Promise.race([tunnel.ready(), stopped]);
  } catch (err) {
    // A failure caused by a shutdown during startup is not a startup failure: finish the shutdown, exit 0.
    if (!startupAbort.signal.aborted) {
      o.shutdown.dispose();
      await tunnel.close({ graceMs: 0 });
      o.release();
      throw err;
    }
  }
  if (o.settings.pidFile !== undefined && !startupAbort.signal.aborted) {
    await writeFile(o.settings.pidFile, `${process.pid}`).catch((err: unknown) =>
      logger.error({ err, pidfile: o.settings.pidFile }, 'Failed to write pidfile'),
    );
  }
  await stopped;
  o.release();
  process.exitCode = 0;
}
