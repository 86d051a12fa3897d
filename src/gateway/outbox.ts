import type WebSocket from 'ws';
import type { Frame, Slot } from '../hub';
import type { Stats } from '../stats';
import type { Socket } from 'node:net';
import { wsTextFrame } from '../frames';
import { corkedByBatch, corkTurn, corkUntilTick, uncorkNow } from './cork';
import { socketOf, writesAtOnce } from './wsInternals';

/** Slow-consumer limits (protocol.md "Limits and slow clients"). */
export interface OutboxLimits {
  /** Buffered bytes past which market data is conflated per key. */
  readonly softBytes: number;
  /** Buffered bytes past which the client is closed with 1008. */
  readonly hardBytes: number;
  /** Time over the soft limit after which the client is closed with 1008. */
  readonly maxSlowMs: number;
}

/** How often a slow client's buffer is looked at while it is slow (only then). */
const SLOW_CHECK_MS = 20;
/** Time a slow client gets to take its close frame before its socket is cut. */
const CLOSE_GRACE_MS = 1000;

/** Longest batch window a client may ask for. */
export const MAX_BATCH_MS = 5000;

const BATCH_HEAD = Buffer.from('{"type":"market_data_batch","ticks":[');
const BATCH_COMMA = Buffer.from(',');
const BATCH_TAIL = Buffer.from(']}');

/**
 * One interval per distinct batch window for every batching client of the process, not one timer
 * per client: each tick of it flushes every member's batch.
 */
class BatchClock {
  private readonly groups = new Map<number, { timer: NodeJS.Timeout; members: Set<Outbox> }>();

  add(ms: number, outbox: Outbox): void {
    let group = this.groups.get(ms);
    if (!group) {
      const members = new Set<Outbox>();
      const timer = setInterval(() => {
        // Clients that received the same frames in this window (same subscriptions) share one
        // encoded batch: it is built once, not once per client.
        let shared: SharedBatch | undefined;
        for (const member of members) shared = member.flushBatch(shared) ?? shared;
      }, ms);
      timer.unref();
      group = { timer, members };
      this.groups.set(ms, group);
    }
    group.members.add(outbox);
  }

  remove(ms: number, outbox: Outbox): void {
    const group = this.groups.get(ms);
    if (!group || !group.members.delete(outbox) || group.members.size > 0) return;
    clearInterval(group.timer);
    this.groups.delete(ms);
  }
}

const batchClock = new BatchClock();

/** A batch as one client's window encoded it, for the next client with the very same frames. */
export interface SharedBatch {
  readonly frames: readonly Frame[];
  readonly bytes: Buffer;
}

function sameFrames(a: readonly Frame[], b: readonly Frame[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function encodeBatch(frames: readonly Frame[]): Buffer {
  const parts: Buffer[] = [BATCH_HEAD];
  for (let i = 0; i < frames.length; i++) {
    if (i > 0) parts.push(BATCH_COMMA);
    parts.push((frames[i] as Frame).bytes);
  }
  parts.push(BATCH_TAIL);
  return Buffer.concat(parts);
}

/**
 * One client's outbound side. While the socket keeps up, every frame is written at once. Past the
 * soft limit, market data is conflated: only the newest frame per (symbol, mode) waits, so memory is
 * bounded by the keys the client holds, and the backlog is written when the buffer drains. Past the
 * hard limit, or over the soft limit for too long, the client is closed with 1008 `slow consumer`.
 * Replies (control messages) are never conflated or dropped.
 *
 * Nothing here blocks: a slow client costs the hub a `Map.set`, never a wait.
 */
export class Outbox {
  private pending: Map<Slot, Frame> | undefined;
  /** Frames waiting for the next batch, while batched delivery is on. */
  private batch: Frame[] | undefined;
  private batchMs = 0;
  private slowSince = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The socket to write market-data frames to directly; undefined when ws must frame them. */
  private readonly raw: Socket | undefined;
  /**
   * Bytes that can still be written raw in batch `budgetTurn` before a limit could be crossed: the
   * socket is corked for the whole batch, so what waits grows by exactly what is written, and the
   * limits need looking at only once per batch, not once per frame.
   */
  private budget = 0;
  /** The batch ({@link corkTurn}) `budget` holds for; -1 for none. */
  private budgetTurn = -1;

  constructor(
    private readonly ws: WebSocket,
    private readonly limits: OutboxLimits,
    private readonly stats: Stats,
    private readonly onSlowClose: (bufferedBytes: number) => void,
  ) {
    // With no extension (no permessage-deflate) a frame's bytes are the same for every client: the
    // frame is built once and written as it is, instead of ws framing it again per client.
    this.raw = ws.extensions === '' ? socketOf(ws) : undefined;
  }

  /** True while updates are being conflated. */
  get slow(): boolean {
    return this.pending !== undefined;
  }

  /** Writes a reply or error envelope; never conflated. */
  sendControl(text: string): void {
    if (this.closed) return;
    this.budgetTurn = -1;
    this.ws.send(text);
    this.checkHard();
  }

  /**
   * Batched delivery [ext]: with `ms > 0`, market data is sent every `ms` as ONE
   * `{"type":"market_data_batch","ticks":[...]}` frame holding the frames of the window in order;
   * `0` goes back to one frame per update (what old clients get). Slow-client rules apply the same.
   */
  setBatchMs(ms: number): void {
    if (this.closed || ms === this.batchMs) return;
    this.budgetTurn = -1;
    this.flushBatch();
    if (this.batchMs > 0) batchClock.remove(this.batchMs, this);
    this.batchMs = ms;
    this.batch = ms > 0 ? [] : undefined;
    if (ms > 0) batchClock.add(ms, this);
  }

  /** The batch window in ms, 0 when each update is its own frame. */
  get batchWindowMs(): number {
    return this.batchMs;
  }

  /**
   * Sends what the batch window collected (called by the batch clock). `shared` is the batch the
   * previous client of this window sent: when this client's frames are the very same, its bytes are
   * reused. Returns what this client sent, for the next one.
   */
  flushBatch(shared?: SharedBatch): SharedBatch | undefined {
    const frames = this.batch;
    if (this.closed || frames === undefined || frames.length === 0) return undefined;
    this.batch = [];
    if (this.over(this.limits.softBytes)) {
      this.enterSlow();
      for (const frame of frames) this.conflate(frame);
      return undefined;
    }
    const sent = shared !== undefined && sameFrames(shared.frames, frames) ? shared : { frames, bytes: encodeBatch(frames) };
    this.writeBatch(sent);
    this.checkHard();
    return sent;
  }

  /** Writes a market-data frame, or conflates it while the client is slow. */
  sendFrame(frame: Frame): void {
    if (this.closed) return;
    if (this.budgetTurn === corkTurn() && writesAtOnce(this.ws)) {
      const wire = (frame.wire ??= wsTextFrame(frame.bytes));
      if (wire.length <= this.budget) {
        this.budget -= wire.length;
        (this.raw as Socket).write(wire);
        this.stats.framesSent++;
        this.stats.bytesSent += frame.bytes.length;
        return;
      }
    }
    this.budgetTurn = -1;
    if (this.pending !== undefined) {
      this.conflate(frame);
      return;
    }
    if (this.batch !== undefined) {
      this.batch.push(frame);
      return;
    }
    if (this.over(this.limits.softBytes)) {
      this.enterSlow();
      this.conflate(frame);
      return;
    }
    this.write(frame);
    this.checkHard();
    this.startBudget();
  }

  /** Stops all work for a closed socket. */
  dispose(): void {
    this.closed = true;
    this.budgetTurn = -1;
    this.pending = undefined;
    this.batch = undefined;
    if (this.batchMs > 0) batchClock.remove(this.batchMs, this);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private write(frame: Frame): void {
    corkUntilTick(this.ws);
    // Raw only while ws itself would write at once (open, nothing queued in its sender): then the
    // order with ws's own writes (replies, pings, the close frame) is the order of the calls.
    if (this.raw !== undefined && writesAtOnce(this.ws)) {
      this.raw.write((frame.wire ??= wsTextFrame(frame.bytes)));
    } else {
      this.ws.send(frame.bytes, { binary: false });
    }
    this.stats.framesSent++;
    this.stats.bytesSent += frame.bytes.length;
  }

  /**
   * After a frame written raw into the batch's cork with every limit looked at: the bytes the rest
   * of the batch may write before the lower limit is reached, so that until then a frame is just
   * written (no `bufferedAmount` read, no cork lookup, no hard-limit check).
   */
  private startBudget(): void {
    if (this.closed || this.raw === undefined || this.pending !== undefined || !corkedByBatch(this.raw)) return;
    this.budget = Math.min(this.limits.softBytes, this.limits.hardBytes) - this.ws.bufferedAmount;
    this.budgetTurn = corkTurn();
  }

  private writeBatch({ frames, bytes }: SharedBatch): void {
    this.ws.send(bytes, { binary: false });
    this.stats.framesSent++;
    this.stats.batchedUpdates += frames.length;
    this.stats.bytesSent += bytes.length;
  }

  private conflate(frame: Frame): void {
    const pending = this.pending as Map<Slot, Frame>;
    if (pending.has(frame.slot)) this.stats.conflated++;
    pending.set(frame.slot, frame);
  }

  private enterSlow(): void {
    this.budgetTurn = -1;
    this.pending = new Map();
    this.slowSince = Date.now();
    this.timer = setInterval(() => this.check(), SLOW_CHECK_MS);
    this.timer.unref();
  }

  private check(): void {
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.limits.hardBytes || Date.now() - this.slowSince > this.limits.maxSlowMs) {
      this.closeSlow(buffered);
      return;
    }
    if (buffered > this.limits.softBytes / 2) return;
    const pending = this.pending as Map<Slot, Frame>;
    this.pending = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.batch !== undefined) {
      const frames = [...pending.values()];
      this.writeBatch({ frames, bytes: encodeBatch(frames) });
    } else for (const frame of pending.values()) this.write(frame);
    // Still over the soft limit after the backlog: keep conflating, and keep the clock running.
    if (this.over(this.limits.softBytes)) {
      const since = this.slowSince;
      this.enterSlow();
      this.slowSince = since;
    }
  }

  private checkHard(): void {
    if (this.over(this.limits.hardBytes)) this.closeSlow(this.ws.bufferedAmount);
  }

  /**
   * True when more than `limit` bytes wait for this client. A batch's frames sit in the corked
   * socket, counted as waiting, until the batch ends; before judging on them they are flushed to
   * the kernel and the count read again, so one large batch never makes a client that keeps up
   * look slow.
   */
  private over(limit: number): boolean {
    return this.ws.bufferedAmount > limit && (!uncorkNow(this.ws) || this.ws.bufferedAmount > limit);
  }

  private closeSlow(buffered: number): void {
    if (this.closed) return;
    this.dispose();
    this.stats.disconnects.slow++;
    this.onSlowClose(buffered);
    this.ws.close(1008, 'slow consumer');
    const ws = this.ws;
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  }
}
