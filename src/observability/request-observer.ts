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

/** The metric hooks a request feeds (cloudflared's request metrics, docs/protocol.md §13.2). */
export interface RequestMetrics {
  requestStarted(): void;
  originResponse(status: number): void;
  requestFinished(): void;
  requestError(): void;
}

/**
 * Builds an observer that counts metrics, publishes to diagnostics_channel and calls `onEnd` (when it wants
 * summaries).
 */
export function createRequestObserver(
  tunnelId: string,
  wantsSummaries: () => boolean,
  onEnd: (summary: RequestSummary) => void,
  metrics?: RequestMetrics,
): RequestObserver {
  const metricsOnly: RequestHandle | undefined = metrics && {
    response: (status) => metrics.originResponse(status),
    end(error) {
      metrics.requestFinished();
      if (error !== undefined) metrics.requestError();
    },
  };
  return {
    start(info) {
      metrics?.requestStarted();
      const publishStart = requestStartChannel.hasSubscribers;
      const publishEnd = requestEndChannel.hasSubscribers;
      const summarise = wantsSummaries();
      if (!publishStart && !publishEnd && !summarise) return metricsOnly ?? NOOP_HANDLE;
      if (publishStart) requestStartChannel.publish({ tunnelId, ...info });
      const started = performance.now();
      let status: number | undefined;
      return {
        response(s) {
          status = s;
          metricsOnly?.response(s);
        },
        end(error) {
          metricsOnly?.end(error);
          const summary: RequestSummary = { tunnelId, ...info, status, durationMs: performance.now() - started, error };
          if (publishEnd) requestEndChannel.publish(summary);
          if (summarise) onEnd(summary);
        },
      };
    },
  };
}
