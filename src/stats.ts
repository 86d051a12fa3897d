import { ZMTP_REJECT_REASONS, type ZmtpRejectReason } from './ingest/zmtp/codec';

/** Why a feed message was dropped before it became a tick. */
export type FeedDropReason = 'frames' | 'topic' | 'encoding' | 'json' | 'not_object' | 'error';

/**
 * The process's counters as plain numbers: incrementing one on the hot path costs an add, nothing
 * more. `/metrics` reads them at scrape time; the stats log line reads them every interval.
 */
export class Stats {
  /** Feed messages received, by topic mode (index 1..3); index 0 counts non-market-data topics. */
  readonly ticksIn = [0, 0, 0, 0];
  /** Feed messages received, whatever they were. */
  received = 0;
  /** Ticks that left the throttle (delivered to the hub). */
  ticksOut = 0;
  /** Feed messages dropped, by reason. */
  readonly feedDropped: Record<FeedDropReason, number> = { frames: 0, topic: 0, encoding: 0, json: 0, not_object: 0, error: 0 };
  /** Publisher connections the ZMTP engine closed, by reason (bad greeting, frame, a cap...). */
  readonly feedRejected: Record<ZmtpRejectReason, number> = Object.fromEntries(ZMTP_REJECT_REASONS.map((r) => [r, 0])) as Record<
    ZmtpRejectReason,
    number
  >;
  /** Feed messages dropped because their topic is not exactly a subscribed one (interest mode). */
  feedUnsubscribed = 0;
  /** Publishers connected now (with the handshake done). */
  feedPublishers = 0;
  /** Bytes the feed socket holds in unfinished messages now (read at scrape time). */
  feedPartialBytes: () => number = () => 0;
  /** Order events relayed to clients. */
  ordersRelayed = 0;
  /** Frames and bytes handed to client sockets. */
  framesSent = 0;
  bytesSent = 0;
  /** Updates delivered inside `market_data_batch` frames (each batch counts once in framesSent). */
  batchedUpdates = 0;
  /** Frames replaced by a newer one for the same key while their client was slow. */
  conflated = 0;
  /** Connections closed, by why. */
  readonly disconnects = { slow: 0, flood: 0, oversize: 0, authTimeout: 0, heartbeat: 0, refused: 0 };
  authFailures = 0;
  rateLimited = 0;
  connectionsTotal = 0;
  /** Epoch ms of the last feed message, 0 before any. */
  lastFeedAt = 0;

  /** Ticks received in all modes. */
  totalTicksIn(): number {
    return this.ticksIn[1]! + this.ticksIn[2]! + this.ticksIn[3]!;
  }
}
