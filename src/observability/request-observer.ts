/**
 * The tunnel's request observer: feeds metrics, diagnostics_channel and the library's `request` event from the origin
 * proxy's per-request callbacks. Does nothing per request when nobody listens.
 */
import { hasErrorCode } from '../errors.js';
import type { RequestHandle, RequestInfo, RequestObserver } from '../proxy/types.js';
import { requestEndChannel, requestStartChannel } from './diagnostics.js';

/**
 * What the visitor gets when the origin fails before answering: the connector answers the edge with an error (a
 * ConnectResponse error on QUIC, §7.3; a 502 with `{"src":"cloudflared"}` on HTTP/2, §8.7) and the edge serves 502.
 */
export const ORIGIN_FAILURE_STATUS = 502;
/** The edge cancelled the request (the visitor went away) before the origin answered: nobody got a status. */
const CANCELLED_CODE = 'CFT_ERR_ORIGIN_REQUEST_CANCELLED';

/** The status the visitor got, given the origin's (if it answered) and the failure (if any). */
export function visitorStatus(originStatus: number | undefined, error: Error | undefined): number | undefined {
  if (originStatus !== undefined || error === undefined) return originStatus;
  return hasErrorCode(error, CANCELLED_CODE) ? undefined : ORIGIN_FAILURE_STATUS;
}

/** A finished request, as the `request` event reports it. */
export interface RequestSummary extends RequestInfo {
  readonly tunnelId: string;
  /**
   * The status the visitor got: the origin's, or 502 when the origin failed before answering (unreachable,
   * refused, timed out); undefined only when the visitor went away before any answer.
   */
  readonly status: number | undefined;
  /** The origin's own status; undefined when it never answered. */
  readonly originStatus: number | undefined;
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
          const summary: RequestSummary = {
            tunnelId,
            ...info,
            status: visitorStatus(status, error),
            originStatus: status,
            durationMs: performance.now() - started,
            error,
          };
          if (publishEnd) requestEndChannel.publish(summary);
          if (summarise) onEnd(summary);
        },
      };
    },
  };
}
