/**
 * Where the metrics server listens (docs/protocol.md §13.1): the default `localhost:0` tries the known ports 20241–20245 on
 * 127.0.0.1, then a random port; an explicit address is bound as given.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { splitHostPort } from '../util/host-port.js';
import { MetricsAddressError, MetricsListenError } from './errors.js';

/** cloudflared's default `--metrics` value on a host (not in a container) (§13.1). */
export const DEFAULT_METRICS_ADDRESS = 'localhost:0';
/** Ports tried in order for the default address, so tools can find the server (§13.1). */
export const KNOWN_METRICS_PORTS: readonly number[] = [20241, 20242, 20243, 20244, 20245];

/**
 * Go listens on the first IPv4 address of a name, so `localhost` means 127.0.0.1; an empty host means every
 * interface (Node's default).
 */
function listenHost(host: string): string | undefined {
  if (host === '') return undefined;
  return host.toLowerCase() === 'localhost' ? '127.0.0.1' : host;
}

function tryListen(server: Server, port: number, host: string | undefined): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      resolve(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(undefined);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
}

/** Binds `server` per the rules above and returns the bound address. Rejects with a typed error. */
export async function listenMetrics(
  server: Server,
  address: string,
  knownPorts: readonly number[] = KNOWN_METRICS_PORTS,
): Promise<AddressInfo> {
  const hp = splitHostPort(address);
  if (!hp) throw new MetricsAddressError(address);
  const host = listenHost(hp.host);
  if (address === DEFAULT_METRICS_ADDRESS) {
    for (const port of knownPorts) {
      if ((await tryListen(server, port, host)) === undefined) return server.address() as AddressInfo;
    }
    const err = await tryListen(server, 0, host);
    if (err)
      throw new MetricsListenError(`failed to listen to default metrics address: ${err.message}`, { cause: err });
    return server.address() as AddressInfo;
  }
  const err = await tryListen(server, hp.port, host);
  if (err) throw new MetricsListenError(`failed to bind to address (${address}): ${err.message}`, { cause: err });
  return server.address() as AddressInfo;
}
