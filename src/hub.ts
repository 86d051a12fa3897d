import { Observable, Subject } from 'rxjs';
import { DEFAULT_MAX_KEYS, formatTopic, type Mode, type Tick } from '../streams';
import { buildFrame, type EncodableTick, type Frame, type FrameOptions, frameHead, frameTail, type Slot, TickEncoder } from './frames';

export type { Frame, Slot } from './frames';

/** A client as the hub knows it: its identity and the frames meant for it. */
export interface HubClient {
  readonly id: number;
  /**
   * Every frame this client should receive, in order. Completes when the client is removed. Emits
   * nothing for a client added with a `deliver` callback (see {@link Hub.addClient}).
   */
  readonly frames$: Observable<Frame>;
}

/** Why the hub forgot a key: unheld and silent for `keyIdleMs`, or pushed out by `maxKeys`. */
export type EvictionReason = 'idle' | 'cap';

/**
 * Default of {@link HubOptions.keyIdleMs} (and of `--key-idle-s`): 24 hours, so a key that ticked in
 * one session is still there at the next weekday's open, and an expired contract is gone a day later.
 */
export const DEFAULT_KEY_IDLE_MS = 24 * 3600_000;

/** Options of {@link Hub}. */
export interface HubOptions extends FrameOptions {
  /**
   * Told whenever the lowest mode any client holds for a symbol changes: 1, 2 or 3, and 0 when its
   * last holder left. A feed can carry only what some client wants, and only from that mode up.
   */
  readonly onInterest?: (exchange: string, symbol: string, lowestMode: 0 | Mode) => void;
  /**
   * Told (once per tick) when a tick cannot be encoded for some delivered mode: a payload nested
   * too deep for `JSON.stringify`. Clients of that mode skip the tick (their next `seq` shows the
   * gap); clients of the modes it could be encoded for still get it.
   */
  readonly onEncodeError?: (err: unknown, tick: Tick) => void;
  /**
   * Most feed keys (exchange, symbol, mode) kept with their last tick. Past it, the symbols no
   * client holds are forgotten, least recently ticked first; a held symbol never is. Default
   * {@link DEFAULT_MAX_KEYS}.
   */
  readonly maxKeys?: number;
  /**
   * A symbol no client holds is forgotten once it has not ticked (nor been let go of) for this
   * long, checked by {@link Hub.sweep}. Default {@link DEFAULT_KEY_IDLE_MS}.
   */
  readonly keyIdleMs?: number;
  /** The clock {@link Hub.sweep} reads (never read per tick). Default `Date.now`. */
  readonly now?: () => number;
}

// Modes are bits: mode m is bit (m - 1). HIGHEST[mask] = the highest mode in the mask (0 = none).
const HIGHEST: readonly (0 | Mode)[] = [0, 1, 2, 2, 3, 3, 3, 3];
// LOWEST[mask] = the lowest mode in the mask (0 = none).
const LOWEST: readonly (0 | Mode)[] = [0, 1, 2, 1, 3, 1, 2, 1];
// Modes at or below M: what a tick on mode M may reach.
const AT_OR_BELOW: readonly number[] = [0, 0b001, 0b011, 0b111];
const POPCOUNT: readonly number[] = [0, 1, 1, 2, 1, 2, 2, 3];
const bit = (mode: Mode): number => 1 << (mode - 1);

class ClientState implements HubClient {
  readonly subject = new Subject<Frame>();
  readonly frames$ = this.subject.asObservable();
  /** symbol entry → held-mode mask */
  readonly held = new Map<SymbolEntry, number>();
  /** Where the fan-out hands this client its frames: the caller's callback, or `frames$`. */
  readonly deliver: (frame: Frame) => void;
  constructor(
    readonly id: number,
    deliver: ((frame: Frame) => void) | undefined,
  ) {
    this.deliver = deliver ?? ((frame) => this.subject.next(frame));
  }
}

/**
 * The newest tick of a symbol at mode ≥ m, as kept for snapshots (its mode is kept beside it, see
 * `SymbolEntry.lastModes`): its payload text; once a frame carrying its full data was built, that
 * data's bytes, copied into the symbol's reusable store for the tick's feed mode (see
 * {@link LastBytes}); or, for a tick that has no text (a re-sorted book nobody holds), its data.
 * Never the parsed tree of a tick that has text, and never a delivered frame: whatever is kept
 * until the key's next tick outlives the young generation, and a frame kept that long made every
 * Depth frame's objects and its buffer old space's to collect. One value per tick, shared by every
 * mode it is the newest of.
 */
type LastTick = string | LastBytes | LastData;

/** The data of a tick that came without its text. */
class LastData {
  constructor(readonly data: Record<string, unknown>) {}
}

/**
 * The `data` JSON of a held symbol's newest tick of one feed mode, as UTF-8 bytes in a buffer
 * reused tick after tick (grown to the largest seen): a tick costs a copy of its data, and the
 * frame it was copied from dies young. Only ticks of that feed mode write it, so every `last`
 * pointing at it means the same tick.
 */
class LastBytes {
  private buf: Buffer;
  private len = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafeSlow(storeSize(size));
  }

  /** Keeps `from[start, end)`. */
  set(from: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n > this.buf.length) this.buf = Buffer.allocUnsafeSlow(storeSize(n));
    from.copy(this.buf, 0, start, end);
    this.len = n;
  }

  text(): string {
    return this.buf.toString('utf8', 0, this.len);
  }
}

/** A store's size for `n` bytes: room for a book that grows a little, in 64-byte steps. */
function storeSize(n: number): number {
  return ((n + (n >> 3)) | 63) + 1;
}

/** Who holds a symbol: created with its first holder, dropped with its last. */
interface Holding {
  /** client → held-mode mask */
  readonly clients: Map<ClientState, number>;
  /** How many clients hold each mode (index mode - 1): their union gives the lowest mode held. */
  readonly perMode: [number, number, number];
}

/** What a symbol needs to build frames: created on its first frame, so a key never delivered costs none. */
interface Framing {
  readonly slots: readonly Slot[];
  /** Frame heads as bytes per tag (index mode - 1), built on the first frame of that tag. */
  readonly heads: (Buffer | undefined)[];
  /**
   * The snapshot frame of the newest tick of mode ≥ m tagged m (index m), once a subscribe built
   * it; dropped by the next such tick. Frames built for delivery are not kept here (see LastTick).
   */
  readonly frames: (Frame | undefined)[];
  /** The data of the newest delivered tick of each feed mode (index mode - 1). */
  readonly stores: (LastBytes | undefined)[];
}

/**
 * One symbol: its seq counters, last ticks, holders and place in the eviction list. Kept small,
 * since a whole exchange universe of them stays in memory: parts only some symbols need (holders,
 * frame building) are separate objects made on first use, and the per-mode values are fields.
 */
class SymbolEntry {
  /** Frames emitted so far tagged m (every tick of mode ≥ m counts). */
  seq1 = 0;
  seq2 = 0;
  seq3 = 0;
  /** The newest tick of mode ≥ m. */
  last1: LastTick | undefined = undefined;
  last2: LastTick | undefined = undefined;
  last3: LastTick | undefined = undefined;
  /** The mode of each of those ticks: two bits per m, at bit 2 × (m - 1). */
  lastModes = 0;
  holding: Holding | undefined = undefined;
  framing: Framing | undefined = undefined;
  /** Topic modes the feed has ticked (bits): the keys this symbol stands for in the hub's index. */
  keys = 0;
  /** The unheld-symbol list, least recently ticked first (unlinked while held). */
  prev: SymbolEntry | undefined = undefined;
  next: SymbolEntry | undefined = undefined;
  /** Hub clock (s) when it last ticked or lost its last holder. */
  at = 0;

  constructor(
    readonly exchange: string,
    readonly symbol: string,
  ) {}

  seq(mode: Mode): number {
    return mode === 1 ? this.seq1 : mode === 2 ? this.seq2 : this.seq3;
  }

  last(mode: Mode): LastTick | undefined {
    return mode === 1 ? this.last1 : mode === 2 ? this.last2 : this.last3;
  }

  framingOf(): Framing {
    if (this.framing === undefined) {
      const { exchange, symbol } = this;
      this.framing = {
        slots: [1, 2, 3].map((mode) => ({ exchange, symbol, mode: mode as Mode })),
        heads: [undefined, undefined, undefined],
        frames: [undefined, undefined, undefined, undefined],
        stores: [undefined, undefined, undefined],
      };
    }
    return this.framing;
  }

  head(mode: Mode): Buffer {
    const heads = this.framingOf().heads;
    return (heads[mode - 1] ??= Buffer.from(frameHead(this.exchange, this.symbol, mode), 'utf8'));
  }
}

/**
 * The subscription index, the fan-out and the last-tick store: `(exchange, symbol, mode) → clients`.
 *
 * A tick on mode M reaches every client holding that symbol at a mode ≤ M, ONE copy per client,
 * tagged with the client's highest held mode ≤ M. Frame bytes are built once per (tick, delivered
 * mode), never per client. The newest tick per symbol and mode is kept for snapshot-on-subscribe.
 * Removing a client removes every trace of it.
 *
 * Keys have a lifecycle: a symbol no client holds is forgotten (with its last ticks) once it has been
 * silent for `keyIdleMs` ({@link sweep}), or, past `maxKeys`, least recently ticked first. The
 * unheld symbols sit in one intrusive list in tick order, so a tick costs a relink and eviction a
 * pop: no clock read, no scan.
 */
export class Hub {
  /** Every feed topic key a symbol ticked on → that symbol; never-ticked held symbols under their LTP key. */
  private readonly byKey = new Map<string, SymbolEntry>();
  private readonly clients = new Set<ClientState>();
  private readonly tailBytes: Buffer;
  private readonly maxKeys: number;
  private readonly idleS: number;
  private readonly now: () => number;
  private readonly startedAt: number;
  /** Seconds since start, as of the last {@link sweep}: what a tick stamps its symbol with. */
  private clock = 0;
  private head: SymbolEntry | undefined;
  private tail: SymbolEntry | undefined;
  private nextId = 1;
  private subscriptionCount = 0;
  private heldSymbols = 0;
  private symbolCount = 0;
  private keyCount = 0;
  private readonly evicted: Record<EvictionReason, number> = { idle: 0, cap: 0 };

  constructor(private readonly options: HubOptions) {
    this.tailBytes = Buffer.from(frameTail(options.broker), 'utf8');
    this.maxKeys = Math.max(1, options.maxKeys ?? DEFAULT_MAX_KEYS);
    this.idleS = Math.max(1, Math.round((options.keyIdleMs ?? DEFAULT_KEY_IDLE_MS) / 1000));
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  /**
   * Registers a client. Its frames are handed to `deliver` when given — one call per frame, in
   * order, from inside {@link publish}: no Observable hop per frame per client — else they arrive on
   * `frames$`.
   */
  addClient(deliver?: (frame: Frame) => void): HubClient {
    const client = new ClientState(this.nextId++, deliver);
    this.clients.add(client);
    return client;
  }

  /** Removes a client and every subscription it held; completes its `frames$`. */
  removeClient(handle: HubClient): void {
    const client = this.own(handle);
    if (!client) return;
    for (const entry of [...client.held.keys()]) this.release(client, entry, 0b111);
    this.clients.delete(client);
    client.subject.complete();
  }

  /**
   * Adds `mode` of (exchange, symbol) to what the client holds. Returns true when it was newly
   * held (false when the client already held it).
   */
  subscribe(handle: HubClient, exchange: string, symbol: string, mode: Mode): boolean {
    const client = this.own(handle);
    if (!client) return false;
    const entry = this.entry(exchange, symbol, true) as SymbolEntry;
    const mask = client.held.get(entry) ?? 0;
    if (mask & bit(mode)) return false;
    let holding = entry.holding;
    if (holding === undefined) {
      holding = entry.holding = { clients: new Map(), perMode: [0, 0, 0] };
      this.unlink(entry);
      this.heldSymbols++;
    }
    const before = lowestHeld(holding);
    client.held.set(entry, mask | bit(mode));
    holding.clients.set(client, mask | bit(mode));
    holding.perMode[mode - 1]!++;
    this.subscriptionCount++;
    const after = lowestHeld(holding);
    if (after !== before) this.options.onInterest?.(exchange, symbol, after);
    return true;
  }

  /**
   * Removes modes of (exchange, symbol) from what the client holds: the given mode, or every held
   * mode when `mode` is omitted. Returns the modes removed (empty when none were held).
   */
  unsubscribe(handle: HubClient, exchange: string, symbol: string, mode?: Mode): Mode[] {
    const client = this.own(handle);
    const entry = this.entry(exchange, symbol, false);
    if (!client || !entry) return [];
    return this.release(client, entry, mode === undefined ? 0b111 : bit(mode));
  }

  /** Removes everything the client holds; returns what was removed. */
  unsubscribeAll(handle: HubClient): { exchange: string; symbol: string; modes: Mode[] }[] {
    const client = this.own(handle);
    if (!client) return [];
    const removed: { exchange: string; symbol: string; modes: Mode[] }[] = [];
    for (const entry of [...client.held.keys()]) {
      removed.push({ exchange: entry.exchange, symbol: entry.symbol, modes: this.release(client, entry, 0b111) });
    }
    return removed;
  }

  /** The modes the client holds for (exchange, symbol), lowest first. */
  held(handle: HubClient, exchange: string, symbol: string): Mode[] {
    const client = this.own(handle);
    const entry = this.entry(exchange, symbol, false);
    return client && entry ? modesOf(client.held.get(entry) ?? 0) : [];
  }

  /** How many (symbol, mode) pairs the client holds. */
  countHeld(handle: HubClient): number {
    const client = this.own(handle);
    let n = 0;
    if (client) for (const mask of client.held.values()) n += POPCOUNT[mask] as number;
    return n;
  }

  /**
   * The snapshot for a newly held (exchange, symbol, mode M): the newest tick among the symbol's
   * topics of mode ≥ M, tagged M — or undefined when none has been seen.
   */
  snapshot(exchange: string, symbol: string, mode: Mode): Frame | undefined {
    const entry = this.entry(exchange, symbol, false);
    if (!entry) return undefined;
    return entry.framing?.frames[mode] ?? this.buildSnapshot(entry, mode);
  }

  /** Delivers one tick to every client that should have it. */
  publish(tick: Tick): void {
    const m = tick.mode;
    let entry = this.byKey.get(tick.key);
    if (entry === undefined || (entry.keys & bit(m)) === 0) entry = this.add(tick);
    const last: LastTick = tick.json ?? new LastData(tick.data);
    entry.seq1++;
    entry.last1 = last;
    if (m === 1) entry.lastModes = (entry.lastModes & 0b111100) | 1;
    else {
      entry.seq2++;
      entry.last2 = last;
      if (m === 2) entry.lastModes = (entry.lastModes & 0b110000) | 0b1010;
      else {
        entry.seq3++;
        entry.last3 = last;
        entry.lastModes = 0b111111;
      }
    }
    entry.at = this.clock;
    const holding = entry.holding;
    if (holding === undefined) {
      // Unheld: now the most recently ticked, the last to be evicted.
      if (entry !== this.tail) {
        this.unlink(entry);
        this.link(entry);
      }
      const frames = entry.framing?.frames;
      if (frames !== undefined) for (let k = 1; k <= m; k++) frames[k] = undefined;
      return;
    }
    const framing = entry.framingOf();
    const frames = framing.frames;
    for (let k = 1; k <= m; k++) frames[k] = undefined;
    const reach = AT_OR_BELOW[m] as number;
    let encoder: TickEncoder | undefined;
    let failed = 0;
    let source: Frame | undefined;
    // This tick's frame per tag, shared by the loop's clients and kept nowhere after it.
    let f1: Frame | undefined;
    let f2: Frame | undefined;
    let f3: Frame | undefined;
    for (const [client, mask] of holding.clients) {
      const tag = HIGHEST[mask & reach] as 0 | Mode;
      if (tag === 0 || (failed & bit(tag)) !== 0) continue;
      let frame = tag === 1 ? f1 : tag === 2 ? f2 : f3;
      if (frame === undefined) {
        encoder ??= new TickEncoder(tick, this.options);
        try {
          frame = buildFrame(framing.slots[tag - 1] as Slot, entry.head(tag), entry.seq(tag), encoder, this.tailBytes);
        } catch (err) {
          // Only the clients of this mode lose the tick, not whoever comes after them in the loop.
          if (failed === 0) this.options.onEncodeError?.(err, tick);
          failed |= bit(tag);
          continue;
        }
        if (tag === 1) f1 = frame;
        else if (tag === 2) f2 = frame;
        else f3 = frame;
        if (source === undefined && encoder.dataJson(tag) === encoder.builtJson()) source = frame;
      }
      client.deliver(frame);
    }
    // Snapshots read the tick back from a copy of the data of the frame that carries it in full
    // (see LastTick): neither the payload text, the parsed tree nor the frame stays on the heap.
    if (source !== undefined) {
      const start = source.dataStart as number;
      const end = source.dataEnd as number;
      let store = framing.stores[m - 1];
      if (store === undefined) store = framing.stores[m - 1] = new LastBytes(end - start);
      store.set(source.bytes, start, end);
      entry.last1 = store;
      if (m >= 2) entry.last2 = store;
      if (m === 3) entry.last3 = store;
    }
  }

  /**
   * Forgets the symbols no client holds that have not ticked (nor lost their last holder) for
   * `keyIdleMs`, and advances the clock ticks are stamped with. Call it on a timer: its period is
   * how late past `keyIdleMs` a key may be forgotten. Costs one step per symbol forgotten.
   */
  sweep(): void {
    this.clock = Math.floor((this.now() - this.startedAt) / 1000);
    while (this.head !== undefined && this.clock - this.head.at >= this.idleS) this.forget(this.head, 'idle');
  }

  /** Sizes for metrics and leak checks. */
  stats(): { clients: number; subscriptions: number; symbols: number; heldSymbols: number; keys: number } {
    return {
      clients: this.clients.size,
      subscriptions: this.subscriptionCount,
      symbols: this.symbolCount,
      heldSymbols: this.heldSymbols,
      keys: this.keyCount,
    };
  }

  /** Keys forgotten so far, by why (each symbol forgotten counts the keys it stood for). */
  evictions(): Readonly<Record<EvictionReason, number>> {
    return this.evicted;
  }

  /** The bound on keys kept ({@link HubOptions.maxKeys}). */
  get keyLimit(): number {
    return this.maxKeys;
  }

  /** The entry a tick's key names: the symbol's (found under another mode's key, or new), indexed under the key. */
  private add(tick: Tick): SymbolEntry {
    let entry = this.entry(tick.exchange, tick.symbol, false);
    if (entry === undefined) {
      entry = new SymbolEntry(tick.exchange, tick.symbol);
      this.symbolCount++;
    } else if (entry.keys === 0) {
      // Held before it ever ticked: indexed under its LTP key until now.
      this.byKey.delete(formatTopic({ exchange: entry.exchange, symbol: entry.symbol, mode: 1 }));
    }
    this.byKey.set(tick.key, entry);
    entry.keys |= bit(tick.mode);
    this.keyCount++;
    entry.at = this.clock;
    if (entry.holding === undefined) {
      // Now the most recently ticked, before making room: it must not be the head the loop stops at.
      this.unlink(entry);
      this.link(entry);
    }
    // Make room, least recently ticked unheld symbol first; never the one that is ticking now.
    while (this.keyCount > this.maxKeys && this.head !== undefined && this.head !== entry) this.forget(this.head, 'cap');
    return entry;
  }

  private buildSnapshot(entry: SymbolEntry, mode: Mode): Frame | undefined {
    let frame: Frame;
    try {
      const tick = lastTickOf(entry, mode);
      if (!tick) return undefined;
      const framing = entry.framingOf();
      frame = buildFrame(
        framing.slots[mode - 1] as Slot,
        entry.head(mode),
        entry.seq(mode),
        new TickEncoder(tick, this.options),
        this.tailBytes,
      );
    } catch {
      // A tick that cannot be encoded has no snapshot; publish reported it if anyone held it.
      return undefined;
    }
    (entry.framing as Framing).frames[mode] = frame;
    return frame;
  }

  private release(client: ClientState, entry: SymbolEntry, bits: number): Mode[] {
    const mask = client.held.get(entry) ?? 0;
    const removed = mask & bits;
    const holding = entry.holding;
    if (removed === 0 || holding === undefined) return [];
    const before = lowestHeld(holding);
    const rest = mask & ~bits;
    this.subscriptionCount -= POPCOUNT[removed] as number;
    for (let m = 0; m < 3; m++) if (removed & (1 << m)) holding.perMode[m]!--;
    if (rest === 0) {
      client.held.delete(entry);
      holding.clients.delete(client);
    } else {
      client.held.set(entry, rest);
      holding.clients.set(client, rest);
    }
    const after = lowestHeld(holding);
    if (holding.clients.size === 0) {
      entry.holding = undefined;
      this.heldSymbols--;
      if (entry.keys === 0) {
        // A symbol the feed never carried lives only as long as someone holds it: junk
        // subscriptions must not grow the index.
        this.byKey.delete(formatTopic({ exchange: entry.exchange, symbol: entry.symbol, mode: 1 }));
        this.symbolCount--;
      } else {
        // Let go of now: it stays for keyIdleMs from here, the most recent in eviction order.
        entry.at = this.clock;
        this.link(entry);
      }
    }
    if (after !== before) this.options.onInterest?.(entry.exchange, entry.symbol, after);
    return modesOf(removed);
  }

  /** The symbol's entry, found under any of its keys; `create` makes a held-only one (indexed under its LTP key). */
  private entry(exchange: string, symbol: string, create: boolean): SymbolEntry | undefined {
    for (let mode = 1 as Mode; mode <= 3; mode++) {
      const entry = this.byKey.get(formatTopic({ exchange, symbol, mode }));
      if (entry !== undefined) return entry;
    }
    if (!create) return undefined;
    const entry = new SymbolEntry(exchange, symbol);
    this.byKey.set(formatTopic({ exchange, symbol, mode: 1 }), entry);
    this.symbolCount++;
    return entry;
  }

  /** Drops an unheld symbol and its last ticks; counts the keys it stood for. */
  private forget(entry: SymbolEntry, reason: EvictionReason): void {
    this.unlink(entry);
    const n = POPCOUNT[entry.keys] as number;
    for (let mode = 1 as Mode; mode <= 3; mode++) {
      if (entry.keys & bit(mode)) this.byKey.delete(formatTopic({ exchange: entry.exchange, symbol: entry.symbol, mode }));
    }
    this.keyCount -= n;
    this.symbolCount--;
    this.evicted[reason] += n;
  }

  private link(entry: SymbolEntry): void {
    entry.prev = this.tail;
    entry.next = undefined;
    if (this.tail === undefined) this.head = entry;
    else this.tail.next = entry;
    this.tail = entry;
  }

  private linked(entry: SymbolEntry): boolean {
    return entry.prev !== undefined || this.head === entry;
  }

  private unlink(entry: SymbolEntry): void {
    if (!this.linked(entry)) return;
    if (entry.prev === undefined) this.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = entry.next = undefined;
  }

  private own(handle: HubClient): ClientState | undefined {
    return handle instanceof ClientState && this.clients.has(handle) ? handle : undefined;
  }
}

/** The lowest mode some client holds, 0 for none. */
function lowestHeld(holding: Holding): 0 | Mode {
  const [a, b, c] = holding.perMode;
  return LOWEST[(a > 0 ? 1 : 0) | (b > 0 ? 2 : 0) | (c > 0 ? 4 : 0)] as 0 | Mode;
}

/** The snapshot tick for tag `mode`: the kept data, or data rebuilt from the kept payload text. */
function lastTickOf(entry: SymbolEntry, mode: Mode): EncodableTick | undefined {
  const last = entry.last(mode);
  if (last === undefined) return undefined;
  const tickMode = ((entry.lastModes >> (2 * (mode - 1))) & 3) as Mode;
  if (last instanceof LastData) return { mode: tickMode, data: last.data, json: undefined, bytes: undefined };
  const json = typeof last === 'string' ? last : last.text();
  return { mode: tickMode, data: JSON.parse(json) as Record<string, unknown>, json, bytes: undefined };
}

function modesOf(mask: number): Mode[] {
  const modes: Mode[] = [];
  if (mask & 1) modes.push(1);
  if (mask & 2) modes.push(2);
  if (mask & 4) modes.push(3);
  return modes;
}
