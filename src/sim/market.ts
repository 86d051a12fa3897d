// The modules, not the barrel: `tickcast --help` reads the simulator's options and need not load rxjs.
import type { Mode } from '../../streams/mode';
import { formatTopic } from '../../streams/topic';

/** How an instrument's order book is spelled in Depth payloads, as different adapters spell it. */
export type BookShape = 'depth' | 'level-objects' | 'pairs';

/** One simulated instrument. */
export interface Instrument {
  readonly exchange: string;
  readonly symbol: string;
  /** Price increment; every price the simulator emits is a multiple of it. */
  readonly tickSize: number;
  /** Where the random walk starts (also the previous close, give or take). */
  readonly price: number;
  /** Smallest trade size: 1 share, or a fraction of a coin. */
  readonly lot: number;
  /** Futures carry open interest. */
  readonly hasOi?: boolean;
  /**
   * An index is computed, never traded: real index feeds carry no volume, average price, last
   * trade quantity or buy/sell totals, so neither do the simulator's.
   */
  readonly isIndex?: boolean;
  /** Default `depth` (`depth:{buy,sell}` of level objects). */
  readonly book?: BookShape;
  /** Some adapters say `last_quantity`, others `last_trade_quantity`. */
  readonly lastQuantityField?: 'last_quantity' | 'last_trade_quantity';
}

const NSE = (symbol: string, price: number): Instrument => ({ exchange: 'NSE', symbol, tickSize: 0.05, price, lot: 1 });
const INDEX = (exchange: string, symbol: string, price: number): Instrument => ({
  exchange,
  symbol,
  tickSize: 0.05,
  price,
  lot: 1,
  isIndex: true,
});
const FUT = (symbol: string, price: number, lot: number): Instrument => ({
  exchange: 'NFO',
  symbol,
  tickSize: 0.05,
  price,
  lot,
  hasOi: true,
  lastQuantityField: 'last_quantity',
});
const CRYPTO = (symbol: string, price: number, lot: number, book: BookShape): Instrument => ({
  exchange: 'CRYPTO',
  symbol,
  tickSize: 0.01,
  price,
  lot,
  book,
  lastQuantityField: 'last_quantity',
});

/**
 * The default universe, in the order `--symbols N` takes it: the five instruments docs and examples
 * rely on come first (`NSE:RELIANCE`, `NSE:TCS`, `NSE:INFY`, `NSE_INDEX:NIFTY`, `CRYPTO:BTC_INR`),
 * then a mix of NSE equities, indices, index futures and crypto pairs with `_` in the symbol.
 */
export const DEFAULT_UNIVERSE: readonly Instrument[] = [
  NSE('RELIANCE', 2950),
  NSE('TCS', 4100),
  NSE('INFY', 1850),
  INDEX('NSE_INDEX', 'NIFTY', 24500),
  CRYPTO('BTC_INR', 8_500_000, 0.0001, 'pairs'),
  INDEX('NSE_INDEX', 'BANKNIFTY', 52000),
  CRYPTO('ETH_INR', 290_000, 0.001, 'level-objects'),
  NSE('HDFCBANK', 1650),
  FUT('NIFTY30JAN25FUT', 24560, 75),
  NSE('ICICIBANK', 1250),
  CRYPTO('SOL_INR', 17_500, 0.01, 'pairs'),
  NSE('SBIN', 820),
  INDEX('BSE_INDEX', 'SENSEX', 80500),
  NSE('ITC', 470),
  NSE('LT', 3600),
  FUT('BANKNIFTY30JAN25FUT', 52150, 30),
  NSE('BHARTIARTL', 1550),
  CRYPTO('DOGE_INR', 30, 1, 'pairs'),
  NSE('AXISBANK', 1150),
  NSE('KOTAKBANK', 1800),
  INDEX('NSE_INDEX', 'FINNIFTY', 23800),
  NSE('HINDUNILVR', 2400),
  NSE('BAJFINANCE', 7200),
  NSE('MARUTI', 12500),
  NSE('TATAMOTORS', 950),
  NSE('WIPRO', 560),
];

/** Options of {@link Market}; see `SIM_OPTIONS` for what each means on the command line. */
export interface MarketOptions {
  /** Instruments to simulate: the first N of {@link DEFAULT_UNIVERSE}, then synthetic NSE names. */
  readonly symbols: number;
  /** Broker ticks per second per instrument (each may go out on up to three topics). */
  readonly rate: number;
  /** Expiry-day style bursts on a few instruments. */
  readonly burst: boolean;
  /** Ticks per second per bursting instrument while a burst lasts. Default 250. */
  readonly burstRate?: number;
  /** Levels per book side: 5, 20 or 50. */
  readonly depthLevels: number;
  /** Share of Depth payloads whose sides are shuffled (0..1). */
  readonly unsortedRatio: number;
  /** Seeds every random choice: the same seed and clock give the same messages. */
  readonly seed: number;
  /** Share of broker ticks published on DEPTH, QUOTE and LTP at once. Default 0.25. */
  readonly allModesRatio?: number;
  /** The instruments to draw from. Default {@link DEFAULT_UNIVERSE}. */
  readonly universe?: readonly Instrument[];
}

/** One feed message, as a publisher sends it: `[topic, payload]`. */
export interface SimMessage {
  readonly topic: string;
  /** The payload's JSON text. */
  readonly payload: string;
}

/** A burst runs for the first {@link BURST_ON_MS} of every {@link BURST_CYCLE_MS}. */
export const BURST_CYCLE_MS = 10_000;
export const BURST_ON_MS = 2_000;
/** How many instruments burst (the first indices and futures of the universe, then the first). */
export const BURST_SYMBOLS = 3;

interface SymbolState {
  readonly inst: Instrument;
  readonly decimals: number;
  readonly qtyDecimals: number;
  readonly bursts: boolean;
  price: number;
  open: number;
  high: number;
  low: number;
  readonly close: number;
  volume: number;
  turnover: number;
  oi: number;
  totalBuy: number;
  totalSell: number;
  /** Market time (ms since the market started) of the next tick. */
  nextAt: number;
  ticks: number;
}

/**
 * A deterministic simulated market: a random walk per instrument with tick-size rounding, turned
 * into LTP, Quote and Depth payloads shaped like real broker adapters' (`feed.md`). No sockets, no
 * clock: the caller passes the time, every random choice comes from the seed, so the same seed and
 * the same times give the same messages.
 *
 * Ticks are scheduled per instrument (about `1000 / rate` ms apart, jittered), so a caller that asks
 * every few milliseconds gets the load spread evenly rather than in one lump per second.
 *
 * @example
 * const market = new Market({ symbols: 5, rate: 2, burst: false, depthLevels: 5, unsortedRatio: 0.1, seed: 1 });
 * for (const m of market.next(Date.now())) socket.send([m.topic, m.payload]);
 */
export class Market {
  readonly instruments: readonly Instrument[];
  private readonly symbols: SymbolState[];
  private readonly random: () => number;
  private readonly options: Required<Omit<MarketOptions, 'universe'>>;
  private startedAt: number | undefined;

  constructor(options: MarketOptions) {
    this.options = { burstRate: 250, allModesRatio: 0.25, ...options };
    this.random = mulberry32(options.seed);
    this.instruments = pickUniverse(options.universe ?? DEFAULT_UNIVERSE, options.symbols);
    const bursting = new Set(burstCandidates(this.instruments));
    this.symbols = this.instruments.map((inst) => {
      const decimals = decimalsOf(inst.tickSize);
      const close = roundTo(inst.price * (1 + (this.random() - 0.5) * 0.01), inst.tickSize, decimals);
      const open = roundTo(close * (1 + (this.random() - 0.5) * 0.004), inst.tickSize, decimals);
      return {
        inst,
        decimals,
        qtyDecimals: decimalsOf(inst.lot),
        bursts: options.burst && bursting.has(inst),
        price: open,
        open,
        high: open,
        low: open,
        close,
        volume: 0,
        turnover: 0,
        oi: inst.hasOi ? Math.round(1_000_000 + this.random() * 5_000_000) : 0,
        totalBuy: 0,
        totalSell: 0,
        nextAt: this.random() * this.period(false),
        ticks: 0,
      };
    });
  }

  /** The instruments that burst (empty unless `burst` is on). */
  get bursting(): Instrument[] {
    return this.symbols.filter((s) => s.bursts).map((s) => s.inst);
  }

  /**
   * Every message due by `now` (epoch ms) since the last call, in time order per instrument. The
   * first call starts the market's clock. A caller that fell far behind (over a second) skips the
   * backlog instead of sending it in one lump.
   */
  next(now: number): SimMessage[] {
    this.startedAt ??= now;
    const t = now - this.startedAt;
    const out: SimMessage[] = [];
    for (const s of this.symbols) {
      if (t - s.nextAt > 1000) s.nextAt = t;
      while (s.nextAt <= t) {
        const burstNow = s.bursts && inBurst(s.nextAt);
        this.tick(s, burstNow, Math.round(this.startedAt + s.nextAt), out);
        s.nextAt += this.period(burstNow) * (0.5 + this.random());
      }
    }
    return out;
  }

  /** The period between ticks of one instrument, in ms. */
  private period(burst: boolean): number {
    return 1000 / (burst ? this.options.burstRate : this.options.rate);
  }

  /** One broker tick: moves the price, then publishes on one, two or all three modes. */
  private tick(s: SymbolState, burst: boolean, at: number, out: SimMessage[]): void {
    const r = this.random;
    const { inst, decimals } = s;
    const sigma = burst ? 0.0008 : 0.0003;
    const moved = roundTo(s.price * (1 + sigma * gaussian(r)), inst.tickSize, decimals);
    s.price = Math.max(inst.tickSize, moved);
    s.high = Math.max(s.high, s.price);
    s.low = Math.min(s.low, s.price);
    const qty = roundTo(inst.lot * (1 + Math.floor(r() * (inst.lot < 1 ? 50 : 500))), inst.lot, s.qtyDecimals);
    s.volume = roundTo(s.volume + qty, inst.lot, s.qtyDecimals);
    s.turnover += qty * s.price;
    s.totalBuy = roundTo(inst.lot * Math.floor(10_000 + r() * 200_000), inst.lot, s.qtyDecimals);
    s.totalSell = roundTo(inst.lot * Math.floor(10_000 + r() * 200_000), inst.lot, s.qtyDecimals);
    if (inst.hasOi) s.oi = Math.max(0, s.oi + Math.round((r() - 0.5) * 10) * inst.lot);
    s.ticks++;

    const modes = this.modesFor();
    for (const mode of modes) {
      out.push({ topic: formatTopic({ exchange: inst.exchange, symbol: inst.symbol, mode }), payload: this.payload(s, mode, at, qty) });
    }
  }

  /** Which topics one broker tick goes out on: all three at once, or one of them. */
  private modesFor(): Mode[] {
    if (this.random() < this.options.allModesRatio) return [3, 2, 1];
    const r = this.random();
    return [r < 0.45 ? 1 : r < 0.8 ? 2 : 3];
  }

  private payload(s: SymbolState, mode: Mode, at: number, qty: number): string {
    const { inst } = s;
    const base = { ltp: s.price, ltt: at, symbol: inst.symbol, exchange: inst.exchange, mode, timestamp: at };
    if (mode === 1) return JSON.stringify(base);
    const ohlc = { open: s.open, high: s.high, low: s.low, close: s.close };
    const avg = s.volume > 0 ? roundTo(s.turnover / s.volume, 0.01, 2) : s.price;
    const quote: Record<string, unknown> = inst.isIndex
      ? { ...base, ...ohlc }
      : {
          ...base,
          volume: s.volume,
          ...ohlc,
          average_price: avg,
          [inst.lastQuantityField ?? 'last_trade_quantity']: qty,
          total_buy_quantity: s.totalBuy,
          total_sell_quantity: s.totalSell,
        };
    if (inst.hasOi) quote['oi'] = s.oi;
    if (mode === 2) return JSON.stringify(quote);
    return JSON.stringify({ ...quote, ...this.book(s) });
  }

  /** A book around the current price: bids below, asks above, in the instrument's shape. */
  private book(s: SymbolState): Record<string, unknown> {
    const r = this.random;
    const { inst, decimals } = s;
    const levels = this.options.depthLevels;
    // Bids from the last price down, asks from one tick above it up, 1–3 ticks apart.
    const side = (dir: 1 | -1): { price: number; quantity: number; orders: number }[] => {
      const out: { price: number; quantity: number; orders: number }[] = [];
      let price = dir === 1 ? s.price + inst.tickSize : s.price;
      for (let i = 0; i < levels; i++) {
        if (i > 0) price += dir * inst.tickSize * (1 + Math.floor(r() * 3));
        price = roundTo(price, inst.tickSize, decimals);
        if (price < inst.tickSize) break;
        const quantity = roundTo(inst.lot * (1 + Math.floor(r() * 2000)), inst.lot, s.qtyDecimals);
        out.push({ price, quantity, orders: 1 + Math.floor(r() * 40) });
      }
      return out;
    };
    let buy = side(-1);
    let sell = side(1);
    if (r() < this.options.unsortedRatio) {
      buy = unsort(buy, r);
      sell = unsort(sell, r);
    }
    switch (inst.book ?? 'depth') {
      case 'depth':
        return { depth: { buy, sell } };
      case 'level-objects':
        return { bids: buy, asks: sell };
      case 'pairs':
        return { bids: buy.map((l) => [l.price, l.quantity]), asks: sell.map((l) => [l.price, l.quantity]) };
    }
  }
}

/** The first `n` instruments of `universe`, then synthetic NSE equities `SIM0001`… past its end. */
export function pickUniverse(universe: readonly Instrument[], n: number): Instrument[] {
  const out = universe.slice(0, n);
  for (let i = out.length; i < n; i++) out.push(NSE(`SIM${String(i + 1).padStart(4, '0')}`, 100 + ((i * 37) % 4900)));
  return out;
}

/** Indices and futures burst on expiry day; fall back to the first instruments. */
function burstCandidates(instruments: readonly Instrument[]): Instrument[] {
  const preferred = instruments.filter((i) => i.exchange.endsWith('_INDEX') || i.hasOi);
  return [...preferred, ...instruments.filter((i) => !preferred.includes(i))].slice(0, BURST_SYMBOLS);
}

/** True when market time `t` falls in a burst window. */
export function inBurst(t: number): boolean {
  return t % BURST_CYCLE_MS < BURST_ON_MS;
}

/** A shuffled copy that is guaranteed not to be in the original order (when there are two or more). */
function unsort<T>(levels: T[], random: () => number): T[] {
  const out = levels.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  if (out.length > 1 && out.every((l, i) => l === levels[i])) [out[0], out[1]] = [out[1] as T, out[0] as T];
  return out;
}

/** Decimal places of a step such as 0.05 or 0.0001. */
export function decimalsOf(step: number): number {
  const text = String(step);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** `value` rounded to a multiple of `step`, without binary-fraction noise (1418.35, not 1418.3500000000001). */
export function roundTo(value: number, step: number, decimals = decimalsOf(step)): number {
  return Number((Math.round(value / step) * step).toFixed(decimals));
}

/** A small, fast, seedable PRNG (mulberry32): uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller). */
function gaussian(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
