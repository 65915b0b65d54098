/** `http_status:NNN` services: a fixed status, no headers, no body (docs/protocol.md §10.2, §11). */
import type { OriginResponse, OriginService } from './types.js';

/** Answers every request with one status code. */
export class StatusOriginService implements OriginService {
  constructor(readonly status: number) {}

  roundTrip(): Promise<OriginResponse> {
    return Promise.resolve({ status: this.status, headers: [], body: null });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
