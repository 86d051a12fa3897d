import type { Mode, Tick } from '../streams';

/**
 * Where a frame belongs for conflation: one (exchange, symbol, delivered mode). A slow client keeps
 * only the newest frame per slot. Slots are stable objects, so they key a `Map` without building
 * strings per tick.
 */
export interface Slot {
  readonly exchange: string;
  readonly symbol: string;
  readonly mode: Mode;
}

/** One encoded `market_data` frame: built once per (key update, delivered mode), shared by every client. */
export interface Frame {
  readonly slot: Slot;
  readonly seq: number;
  /** The whole frame as UTF-8 bytes, ready for the socket. */
  readonly bytes: Buffer;
  /**
   * The same as one WebSocket text frame (`bytes` is its payload): what a client socket is written
   * when ws need not frame it. {@link buildFrame} builds it with the frame; others (batches) get it
   * on first use.
   */
  wire?: Buffer;
  /** Where the `data` JSON sits in `bytes` (frames {@link buildFrame} builds). */
  readonly dataStart?: number;
  readonly dataEnd?: number;
}

/** What an encoder needs of a tick: its mode and payload, not its key. */
export type EncodableTick = Pick<Tick, 'mode' | 'data' | 'json' | 'bytes'>;

/** How books reach clients. */
export interface FrameOptions {
  /** Broker label carried by every `market_data` frame. */
  readonly broker: string;
  /**
   * Deliver books as `depth: { buy, sell }` with `{ price, quantity, orders }` levels whatever shape
   * they arrived in (protocol.md [fix]). Default true; false passes `bids`/`asks` through.
   */
  readonly booksAsDepth?: boolean;
  /**
   * Leave the book arrays out of a Depth tick delivered to a client that holds only LTP or Quote
   * (protocol.md [ext]). Default true.
   */
  readonly omitBooksBelowDepth?: boolean;
}

const BOOK_FIELDS = ['depth', 'bids', 'asks'] as const;

/** True when the payload carries an order book in any accepted shape. */
export function hasBook(data: Record<string, unknown>): boolean {
  return data['depth'] !== undefined || data['bids'] !== undefined || data['asks'] !== undefined;
}

/** `data` without its book arrays (a shallow copy), for clients that did not ask for books. */
export function withoutBook(data: Record<string, unknown>): Record<string, unknown> {
  // Null prototype: a `__proto__` key from the feed stays a plain field.
  const out: Record<string, unknown> = Object.create(null);
  for (const k in data) {
    if (!(BOOK_FIELDS as readonly string[]).includes(k) && Object.prototype.hasOwnProperty.call(data, k)) out[k] = data[k];
  }
  return out;
}

function levelObject(level: unknown): unknown {
  if (!Array.isArray(level)) return level;
  const price = Number(level[0]);
  const quantity = Number(level[1]);
  return level.length > 2 ? { price, quantity, orders: Number(level[2]) } : { price, quantity };
}

/**
 * Converts `bids`/`asks` books (level objects or `[price, quantity]` pairs) into
 * `depth: { buy, sell }` with level objects; a payload already in `depth` shape is returned as is.
 */
export function toDepthShape(data: Record<string, unknown>): Record<string, unknown> {
  const bids = data['bids'];
  const asks = data['asks'];
  if (data['depth'] !== undefined || (!Array.isArray(bids) && !Array.isArray(asks))) return data;
  const out: Record<string, unknown> = Object.create(null);
  for (const k in data) if (k !== 'bids' && k !== 'asks' && Object.prototype.hasOwnProperty.call(data, k)) out[k] = data[k];
  out['depth'] = {
    buy: Array.isArray(bids) ? bids.map(levelObject) : [],
    sell: Array.isArray(asks) ? asks.map(levelObject) : [],
  };
  return out;
}

/**
 * Builds the JSON text of `data` for one delivered mode, once per tick: the payload's own text when
 * nothing in it changes, otherwise one `JSON.stringify`.
 */
export class TickEncoder {
  private full: string | undefined;
  private lean: string | undefined;

  constructor(
    private readonly tick: EncodableTick,
    private readonly options: FrameOptions,
  ) {}

  /** The `data` JSON for a frame tagged `mode`. */
  dataJson(mode: Mode): string {
    const { tick, options } = this;
    const book = tick.mode === 3 && hasBook(tick.data);
    if (book && mode < 3 && options.omitBooksBelowDepth !== false) {
      return (this.lean ??= JSON.stringify(withoutBook(tick.data)));
    }
    if (this.full !== undefined) return this.full;
    if (book && options.booksAsDepth !== false) {
      const shaped = toDepthShape(tick.data);
      this.full = shaped === tick.data && tick.json !== undefined ? tick.json : JSON.stringify(shaped);
    } else {
      this.full = tick.json ?? JSON.stringify(tick.data);
    }
    return this.full;
  }

  /**
   * The full `data` JSON when {@link dataJson} already built it, else undefined. Decoding it gives
   * data that encodes to the same frames, so it can stand for the tick in a snapshot store.
   */
  builtJson(): string | undefined {
    return this.full;
  }

  /** The tick's payload bytes when `json` (from {@link dataJson}) is the payload text itself. */
  bytesOf(json: string): Uint8Array | undefined {
    return json === this.tick.json ? this.tick.bytes : undefined;
  }
}

/** The constant head of a `market_data` frame for one (exchange, symbol, delivered mode). */
export function frameHead(exchange: string, symbol: string, mode: Mode): string {
  return `{"type":"market_data","symbol":${JSON.stringify(symbol)},"exchange":${JSON.stringify(exchange)},"mode":${mode},"seq":`;
}

/** The bytes between a frame's seq and its data. */
const DATA_KEY = Buffer.from(',"data":', 'latin1');

/**
 * Builds the `market_data` frame of one tick for one delivered mode (`slot.mode`): `head` (from
 * {@link frameHead}, as bytes) + seq digits + `,"data":` + the data JSON + `tail` (from
 * {@link frameTail}). No string concatenation, so nothing to flatten; a payload that came as bytes
 * is copied as it is. Throws when the data cannot be encoded (nested too deep).
 */
export function buildFrame(slot: Slot, head: Buffer, seq: number, encoder: TickEncoder, tail: Buffer): Frame {
  const digits = String(seq);
  const data = encoder.dataJson(slot.mode);
  const raw = encoder.bytesOf(data);
  const at = head.length + digits.length + DATA_KEY.length;
  const size = raw === undefined ? Buffer.byteLength(data, 'utf8') : raw.length;
  const n = at + size + tail.length;
  // Built inside its WebSocket frame: one allocation serves ws (bytes) and raw writes (wire).
  const wire = Buffer.allocUnsafe(wsHeaderLength(n) + n);
  const bytes = wire.subarray(writeWsTextHeader(wire, n));
  bytes.set(head, 0);
  bytes.write(digits, head.length, 'latin1');
  bytes.set(DATA_KEY, head.length + digits.length);
  if (raw === undefined) bytes.write(data, at, 'utf8');
  else bytes.set(raw, at);
  bytes.set(tail, at + size);
  return { slot, seq, bytes, wire, dataStart: at, dataEnd: at + size };
}

/** The constant tail of every `market_data` frame of one broker. */
export function frameTail(broker: string): string {
  return `,"broker":${JSON.stringify(broker)}}`;
}

/** Bytes of the header of an unmasked WebSocket frame carrying `n` bytes (RFC 6455 §5.2). */
export function wsHeaderLength(n: number): number {
  return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

/**
 * Writes at 0 the header of one final, unmasked text frame of `n` payload bytes; returns its length.
 * Server frames are never masked, so the bytes are the same for every client.
 */
export function writeWsTextHeader(out: Buffer, n: number): number {
  const head = wsHeaderLength(n);
  out[0] = 0x81;
  if (head === 2) out[1] = n;
  else if (head === 4) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  return head;
}

/** `payload` as one final, unmasked WebSocket text frame. */
export function wsTextFrame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(wsHeaderLength(payload.length) + payload.length);
  payload.copy(out, writeWsTextHeader(out, payload.length));
  return out;
}
