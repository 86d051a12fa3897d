import { parseTopic, type RawTick } from '../../streams';

/** A client of the {@link NaiveProxy}: it only counts what it is sent. */
export interface NaiveClient {
  frames: number;
  bytes: number;
}

interface BookLevel {
  price: number;
}

const byBid = (a: BookLevel, b: BookLevel): number => b.price - a.price;
const byAsk = (a: BookLevel, b: BookLevel): number => a.price - b.price;

/**
 * The baseline: what the Python proxy does with every message — parse the topic, decode and parse
 * the payload, sort both sides of a book (always, sorted or not), then serialise the whole frame
 * once PER CLIENT. No throttle, no encode-once.
 *
 * It is given the benefit of every doubt: a `Map` subscription index (the Python proxy scans its
 * clients), and its clients count string length instead of encoding UTF-8 bytes. So the ratio
 * against Tickcast is, if anything, understated.
 */
export class NaiveProxy {
  private readonly index = new Map<string, NaiveClient[]>();
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly broker: string,
    private readonly maxLevels = 50,
  ) {}

  subscribe(client: NaiveClient, exchange: string, symbol: string, mode: number): void {
    const key = `${exchange}|${symbol}|${mode}`;
    const clients = this.index.get(key);
    if (clients) clients.push(client);
    else this.index.set(key, [client]);
  }

  ingest(raw: RawTick): void {
    const key = parseTopic(raw.topic);
    if (!key) return;
    const text = typeof raw.payload === 'string' ? raw.payload : this.decoder.decode(raw.payload);
    const data = JSON.parse(text) as Record<string, unknown>;
    const depth = data['depth'] as { buy?: BookLevel[]; sell?: BookLevel[] } | undefined;
    if (depth && typeof depth === 'object') {
      if (Array.isArray(depth.buy)) depth.buy = [...depth.buy].sort(byBid).slice(0, this.maxLevels);
      if (Array.isArray(depth.sell)) depth.sell = [...depth.sell].sort(byAsk).slice(0, this.maxLevels);
    }
    const clients = this.index.get(`${key.exchange}|${key.symbol}|${key.mode}`);
    if (!clients) return;
    for (const client of clients) {
      const frame = JSON.stringify({
        type: 'market_data',
        symbol: key.symbol,
        exchange: key.exchange,
        mode: key.mode,
        data,
        broker: this.broker,
      });
      client.frames++;
      client.bytes += frame.length;
    }
  }
}
