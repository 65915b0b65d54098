/**
 * The connector's control stream (docs/protocol.md §6.5-§6.8): register, push the local configuration when the tunnel is
 * locally managed, unregister on graceful shutdown.
 */
import type { Duplex } from 'node:stream';
import type { RpcError } from '../rpc/errors.js';
import { RegistrationClient } from '../rpc/tunnel/registration-client.js';
import { formatUuid } from '../token/uuid.js';
import type { ConnectionContext, ConnectionDetails, ConnectionMetrics } from './types.js';

type ClientMethod = Parameters<ConnectionMetrics['observeRpcClient']>[1];

/** Runs a registration RPC, counted in the RPC client metrics when the context has them (§13.2). */
function counted<T>(ctx: ConnectionContext, method: ClientMethod, call: () => Promise<T>): Promise<T> {
  return ctx.tunnel.metrics === undefined ? call() : ctx.tunnel.metrics.observeRpcClient('registration', method, call);
}

/** One control stream's registration session. */
export interface ControlSession {
  /** Calls `registerConnection` with the §6.6 arguments; `originLocalIp` is transport-specific (16 bytes). */
  register(originLocalIp: Buffer): Promise<ConnectionDetails>;
  /** Calls `unregisterConnection`, bounded by `timeoutMs` (the grace period, §6.8). */
  unregister(timeoutMs: number): Promise<void>;
  /** Ends the RPC session (Release + Abort "rpc: shutdown", like cloudflared). */
  close(): void;
  /**
   * Settles when the RPC session is over: with the error that broke it (a malformed or oversized frame from the edge,
   * an edge Abort, a failed stream), or `null` after a clean end (ours or the edge's FIN).
   */
  readonly ended: Promise<RpcError | null>;
}

/** Starts the RPC client on a control stream. */
export function openControlSession(stream: Duplex, ctx: ConnectionContext): ControlSession {
  const client = new RegistrationClient(stream);
  let closed = false;
  return {
    ended: client.rpc.closed,
    async register(originLocalIp) {
      const { credentials, identity } = ctx.tunnel;
      ctx.tunnel.logger.debug({ connIndex: ctx.connIndex }, 'Registering tunnel connection');
      const details = await counted(ctx, 'register_connection', () =>
        client.registerConnection(
          {
            accountTag: credentials.accountTag,
            tunnelSecret: credentials.tunnelSecret.bytes(),
            tunnelId: credentials.tunnelIdBytes,
            connIndex: ctx.connIndex,
            clientId: identity.clientId,
            features: [...identity.features],
            version: identity.version,
            arch: identity.arch,
            originLocalIp,
            replaceExisting: false,
            compressionQuality: 0,
            numPreviousAttempts: ctx.numPreviousAttempts,
          },
          { timeoutMs: ctx.tunnel.settings.rpcTimeoutMs },
        ),
      );
      const result: ConnectionDetails = {
        uuid: formatUuid(details.uuid),
        locationName: details.locationName,
        tunnelIsRemotelyManaged: details.tunnelIsRemotelyManaged,
      };
      // §6.8: only connection 0 of a locally managed tunnel pushes its configuration; failures are only logged.
      if (ctx.connIndex === 0 && !result.tunnelIsRemotelyManaged && ctx.tunnel.localConfig !== undefined) {
        const localConfig = ctx.tunnel.localConfig;
        counted(ctx, 'update_local_configuration', () =>
          client.updateLocalConfiguration(localConfig, { timeoutMs: ctx.tunnel.settings.rpcTimeoutMs }),
        ).then(
          () => ctx.tunnel.metrics?.localConfigPushed(true),
          (err: unknown) => {
            ctx.tunnel.metrics?.localConfigPushed(false);
            ctx.tunnel.logger.error({ err, connIndex: ctx.connIndex }, 'unable to send local configuration');
          },
        );
      }
      return result;
    },
    async unregister(timeoutMs) {
      if (closed) return;
      await counted(ctx, 'unregister_connection', () => client.unregisterConnection({ timeoutMs }));
      ctx.tunnel.logger.info({ connIndex: ctx.connIndex }, 'Unregistered tunnel connection');
    },
    close() {
      if (closed) return;
      closed = true;
      void client.close().catch(() => undefined);
    },
  };
}

/**
 * The common first half of a graceful shutdown (docs/protocol.md §12.5): `unregisterConnection` bounded by the grace
 * period (a failure is only logged — the connection is going away anyway), then wait for in-flight requests for
 * at most the grace period, then end the RPC session.
 */
export async function unregisterAndDrain(
  control: ControlSession | undefined,
  inFlight: { idle(timeoutMs: number): Promise<boolean> },
  graceMs: number,
  ctx: ConnectionContext,
): Promise<void> {
  try {
    await control?.unregister(graceMs);
  } catch (err) {
    ctx.tunnel.logger.debug({ err, connIndex: ctx.connIndex }, 'unregisterConnection failed');
  }
  await inFlight.idle(graceMs);
  control?.close();
}
