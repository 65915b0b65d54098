/**
 * Relaying proxied WebSockets, and closing them cleanly when the tunnel drains. The connector relays the upgraded
 * byte stream as is (docs/protocol.md §7.4, §8.5), so an open WebSocket would hold graceful shutdown (§12.5) for the
 * whole grace period and then be cut (the visitor sees 1006). Instead, when the drain starts, both peers get an
 * RFC 6455 close frame with status 1001 "going away": the visitor unmasked (as from the server), the origin masked
 * (as from the client). cloudflared has no such step; this is cftunnel's own behaviour.
 *
 * A close frame may only go between frames, so each direction's frame boundaries are tracked as bytes pass.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { pipeBothWays } from './pipe-body.js';

/** RFC 6455 §7.4.1: "an endpoint is going away, such as a server going down". */
export const WEBSOCKET_GOING_AWAY = 1001;
/** Reason text of the close frames cftunnel sends on shutdown. */
export const GOING_AWAY_REASON = 'tunnel shutting down';

const OPCODE_CLOSE = 0x8;

/** Follows the frames of one direction of a WebSocket byte stream (RFC 6455 §5.2), without copying payloads. */
export class FrameBoundaryTracker {
  /** Header bytes of the frame being read, while its header is incomplete. */
  private header: number[] = [];
  /** Payload bytes left in the current frame. */
  private remaining = 0;

  /** True between frames: a control frame may be inserted here. */
  get atBoundary(): boolean {
    return this.header.length === 0 && this.remaining === 0;
  }

  /**
   * Follows `chunk` from `offset`. With `untilBoundary`, stops at the first frame boundary at or after `offset`.
   * Returns the offset reached.
   */
  advance(chunk: Uint8Array, offset = 0, untilBoundary = false): number {
    let i = offset;
    while (i < chunk.length) {
      if (untilBoundary && this.atBoundary) return i;
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        this.remaining -= n;
        i += n;
        continue;
      }
      this.header.push(chunk[i++]!);
      const size = headerSize(this.header);
      if (size !== undefined && this.header.length === size) {
        this.remaining = payloadLength(this.header);
        this.header = [];
      }
    }
    return i;
  }
}

/** Header length once its first two bytes are known (2 + extended length + mask key). */
function headerSize(h: readonly number[]): number | undefined {
  if (h.length < 2) return undefined;
  const len7 = h[1]! & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (h[1]! & 0x80 ? 4 : 0);
}

function payloadLength(h: readonly number[]): number {
  const len7 = h[1]! & 0x7f;
  if (len7 < 126) return len7;
  if (len7 === 126) return (h[2]! << 8) | h[3]!;
  let n = 0;
  for (let i = 2; i < 10; i++) n = n * 256 + h[i]!;
  return n;
}

/** A close frame with `code` and `reason`; masked (client to server) when `masked`. */
export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  const payload = Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason, 'utf8')]);
  if (payload.length > 125) throw new RangeError('a close frame payload is at most 125 bytes');
  const header = Buffer.from([0x80 | OPCODE_CLOSE, (masked ? 0x80 : 0) | payload.length]);
  if (!masked) return Buffer.concat([header, payload]);
  const key = randomBytes(4);
  for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i % 4]!;
  return Buffer.concat([header, key, payload]);
}

/**
 * One direction of a relayed WebSocket: `from` is piped into `to` until {@link Direction.goAway}, which lets the
 * frame in progress finish, sends the close frame after it, ends `to` and drops what `from` sends afterwards.
 */
class Direction {
  private readonly tracker = new FrameBoundaryTracker();
  private closing = false;
  private readonly follow = (chunk: Buffer): void => {
    if (!this.closing) {
      this.tracker.advance(chunk);
      return;
    }
    if (this.sent) return;
    const end = this.tracker.advance(chunk, 0, true);
    if (end > 0 && this.writable()) this.to.write(chunk.subarray(0, end));
    if (this.tracker.atBoundary) this.sendClose();
  };
  private sent = false;

  constructor(
    private readonly from: Duplex,
    private readonly to: Duplex,
    private readonly frame: () => Buffer,
  ) {
    from.on('data', this.follow);
  }

  goAway(): void {
    if (this.closing) return;
    this.closing = true;
    // From here on `follow` forwards what is left of the current frame itself.
    this.from.unpipe(this.to);
    this.from.resume();
    if (this.tracker.atBoundary) this.sendClose();
  }

  private writable(): boolean {
    return !this.to.destroyed && !this.to.writableEnded;
  }

  private sendClose(): void {
    this.sent = true;
    if (this.writable()) this.to.end(this.frame());
  }

  detach(): void {
    this.from.off('data', this.follow);
  }
}

/** The WebSockets relayed on one tunnel connection. */
export class WebSocketRelays {
  private readonly open = new Set<{ goAway(): void }>();
  private goingAway = false;

  /** Number of WebSockets being relayed. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Relays `edge` (the edge stream: visitor frames) and `origin` (the upgraded origin stream) both ways until either
   * side ends (§7.4). A WebSocket opened while the connection drains is closed with 1001 at once.
   */
  async relay(edge: Duplex, origin: Duplex): Promise<void> {
    const toVisitor = new Direction(origin, edge, () => closeFrame(WEBSOCKET_GOING_AWAY, GOING_AWAY_REASON, false));
    const toOrigin = new Direction(edge, origin, () => closeFrame(WEBSOCKET_GOING_AWAY, GOING_AWAY_REASON, true));
    const entry = {
      goAway(): void {
        toVisitor.goAway();
        toOrigin.goAway();
      },
    };
    this.open.add(entry);
    try {
      const piped = pipeBothWays(edge, origin);
      if (this.goingAway) entry.goAway();
      await piped;
    } finally {
      this.open.delete(entry);
      toVisitor.detach();
      toOrigin.detach();
    }
  }

  /** The drain started: close every relayed WebSocket with 1001, and any opened from now on. */
  goAway(): void {
    this.goingAway = true;
    for (const entry of this.open) entry.goAway();
  }
}
