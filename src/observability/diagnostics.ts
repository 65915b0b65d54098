/**
 * `node:diagnostics_channel` channels for connection and request lifecycle, so APM tools and host applications can
 * observe a tunnel without options or event listeners. Publishing costs nothing when no one subscribes.
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/** Channel names (stable; part of the public API). */
export const DIAGNOSTICS_CHANNELS = {
  /** `{ tunnelId, connIndex, protocol, location, connectionId, edge }` when a connection registered. */
  connectionConnected: 'cftunnel:connection:connected',
  /** `{ tunnelId, connIndex, protocol, error }` when a registered connection ended. */
  connectionDisconnected: 'cftunnel:connection:disconnected',
  /** `{ tunnelId, connIndex, protocol, method, url, host, isWebsocket, cfRay }` when a request arrives from the edge. */
  requestStart: 'cftunnel:request:start',
  /** The start message plus `{ status, originStatus, durationMs, error }` when the request is over (see `RequestSummary`). */
  requestEnd: 'cftunnel:request:end',
} as const;

export const connectionConnectedChannel = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.connectionConnected);
export const connectionDisconnectedChannel = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.connectionDisconnected);
export const requestStartChannel = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.requestStart);
export const requestEndChannel = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.requestEnd);
