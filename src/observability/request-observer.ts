/**
 * The tunnel's request observer: feeds diagnostics_channel and the library's `request` event from the connection
 * layer's per-request callbacks. Does nothing per request when nobody listens.
 */
import type { RequestHandle, RequestInfo, RequestObserver } from '../connection/types.js';
import { requestEndChannel, requestStartChannel } from './diagnostics.js';

/** A finished request, as the `request` event reports it. */
export interface RequestSummary extends RequestInfo {
  readonly tunnelId: string;
  /** Origin status, or undefined when the origin was never reached. */
  readonly status: number | undefined;
  readonly durationMs: number;
  readonly error: Error | undefined;
}

const NOOP_HANDLE: RequestHandle = { response() {}, end() {} };

/** Builds an observer that publishes to diagnostics_channel and calls `onEnd` (when it wants summaries). */
export function createRequestObserver(tunnelId: string, wantsSummaries: () => boolean, onEnd: (summary: RequestSummary) => void): RequestObserver {
  return {
    start(info) {
      const publishStart = requestStartChannel.hasSubscribers;
      const publishEnd = requestEndChannel.hasSubscribers;
      const summarise = wantsSummaries();
      if (!publishStart && !publishEnd && !summarise) return NOOP_HANDLE;
      if (publishStart) requestStartChannel.publish({ tunnelId, ...info });
      const started = performance.now();
      let status: number | undefined;
      return {
        response(s) {
          status = s;
        },
        end(error) {
          const summary: RequestSummary = { tunnelId, ...info, status, durationMs: performance.now() - started, error };
          if (publishEnd) requestEndChannel.publish(summary);
          if (summarise) onEnd(summary);
        },
      };
    },
  };
}
