/**
 * Edge-opened RPC streams on QUIC (docs/protocol.md §7.5): `updateConfiguration` goes to the orchestrator; UDP session
 * RPCs are refused because private-network routing is out of scope.
 */
import type { Duplex } from 'node:stream';
import { RpcServerException } from '../rpc/errors.js';
import { serveCloudflared } from '../rpc/tunnel/cloudflared-server.js';
import { WARP_ROUTING_DISABLED_MESSAGE } from './edge-request.js';
import type { ConnectionContext } from './types.js';

/**
 * Serves one RPC stream until the edge ends it, for at most `ctx.tunnel.settings.rpcTimeoutMs` (docs/protocol.md §7.5: HEAD bounds
 * the serving of an RPC stream by `--rpc-timeout`, then closes its side; 2023.7.3 waited for the edge). An edge that
 * opens a stream and never finishes it cannot keep the stream, its handler and its buffers alive for ever.
 */
export async function serveConfigRpcStream(
  stream: Duplex,
  ctx: ConnectionContext,
  onConfig?: (version: number, err: string | null) => void,
): Promise<void> {
  const metrics = ctx.tunnel.metrics;
  const rpc = serveCloudflared(stream, {
    async updateConfiguration(version, config) {
      const apply = async () => {
        const result = await ctx.tunnel.orchestrator.updateConfiguration(version, config);
        if (result.err !== null)
          ctx.tunnel.logger.error({ version, err: result.err }, 'Failed to update configuration');
        else if (result.latestAppliedVersion === version)
          ctx.tunnel.logger.info({ version }, 'Updated to new configuration');
        onConfig?.(version, result.err);
        return result;
      };
      return metrics === undefined ? apply() : metrics.observeRpcServer('config', 'update_configuration', apply);
    },
    // The protocol's own error channel: RegisterUdpSessionResponse.err, so the edge sees why (§14.1).
    async registerUdpSession() {
      const refuse = async () => ({ err: WARP_ROUTING_DISABLED_MESSAGE });
      return metrics === undefined ? refuse() : metrics.observeRpcServer('session', 'register_udp_session', refuse);
    },
    async unregisterUdpSession() {
      const refuse = async (): Promise<never> => {
        throw new RpcServerException('failed', WARP_ROUTING_DISABLED_MESSAGE);
      };
      return metrics === undefined ? refuse() : metrics.observeRpcServer('session', 'unregister_udp_session', refuse);
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ctx.tunnel.settings.rpcTimeoutMs);
    timer.unref();
  });
  await Promise.race([rpc.closed, bound]);
  clearTimeout(timer);
  // After the bound: Abort "rpc: shutdown" and end our side, as HEAD's deferred close of the RPC connection does.
  if (!rpc.isClosed) await rpc.close();
  if (!stream.destroyed) stream.end();
}
