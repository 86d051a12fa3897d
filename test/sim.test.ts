import { isSideSorted, normalizeBook, parseTopic } from '../streams';
import { parseArgs, resolveOptions } from '../src/config';
import {
  BURST_ON_MS,
  buildSimConfig,
  DEFAULT_UNIVERSE,
  Market,
  type MarketOptions,
  roundTo,
  SIM_OPTIONS,
  type SimMessage,
} from '../src/sim';

const BASE: MarketOptions = { symbols: DEFAULT_UNIVERSE.length, rate: 2, burst: false, depthLevels: 5, unsortedRatio: 0.1, seed: 42 };
const T0 = 1_746_171_226_000;

/** Runs a market for `ms` of its time, asking every `stepMs`. */
function run(options: Partial<MarketOptions>, ms: number, stepMs = 10): { market: Market; messages: SimMessage[]; batches: number[] } {
  const market = new Market({ ...BASE, ...options });
  const messages: SimMessage[] = [];
  const batches: number[] = [];
  for (let t = 0; t <= ms; t += stepMs) {
    const batch = market.next(T0 + t);
    batches.push(batch.length);
    messages.push(...batch);
  }
  return { market, messages, batches };
}

type Payload = Record<string, unknown>;
const payloadOf = (m: SimMessage): Payload => JSON.parse(m.payload) as Payload;
const keyOf = (m: SimMessage) => parseTopic(m.topic)!;
const sidesOf = (p: Payload): [unknown[], unknown[]] => {
  const depth = p['depth'] as { buy: unknown[]; sell: unknown[] } | undefined;
  return depth ? [depth.buy, depth.sell] : [p['bids'] as unknown[], p['asks'] as unknown[]];
};

describe('simulated market', () => {
  const { messages } = run({}, 20_000);

  it('is deterministic for a seed and differs between seeds', () => {
    expect(run({}, 3_000).messages).toEqual(run({}, 3_000).messages);
    expect(run({ seed: 43 }, 3_000).messages).not.toEqual(run({}, 3_000).messages);
  });

  it('publishes topics that parseTopic reads back as the instrument and a mode', () => {
    const names = new Set(DEFAULT_UNIVERSE.map((i) => `${i.exchange}:${i.symbol}`));
    for (const m of messages) {
      const key = keyOf(m);
      expect(key).not.toBeNull();
      expect(names.has(`${key.exchange}:${key.symbol}`)).toBe(true);
      const p = payloadOf(m);
      expect([p['exchange'], p['symbol'], p['mode']]).toEqual([key.exchange, key.symbol, key.mode]);
    }
  });

  it('covers the documented instruments on all three modes, including _ symbols and two-segment exchanges', () => {
    const seen = new Set(messages.map((m) => m.topic));
    for (const topic of [
      'NSE_RELIANCE_LTP',
      'NSE_RELIANCE_QUOTE',
      'NSE_RELIANCE_DEPTH',
      'NSE_TCS_LTP',
      'NSE_TCS_QUOTE',
      'NSE_TCS_DEPTH',
      'NSE_INFY_LTP',
      'NSE_INFY_QUOTE',
      'NSE_INFY_DEPTH',
      'NSE_INDEX_NIFTY_LTP',
      'NSE_INDEX_NIFTY_QUOTE',
      'NSE_INDEX_NIFTY_DEPTH',
      'NSE_INDEX_BANKNIFTY_LTP',
      'CRYPTO_BTC_INR_LTP',
      'CRYPTO_BTC_INR_QUOTE',
      'CRYPTO_BTC_INR_DEPTH',
      'CRYPTO_SOL_INR_LTP',
    ]) {
      expect(seen).toContain(topic);
    }
    expect(parseTopic('NSE_INDEX_NIFTY_LTP')).toEqual({ exchange: 'NSE_INDEX', symbol: 'NIFTY', mode: 1 });
    expect(keyOf(messages.find((m) => m.topic === 'CRYPTO_BTC_INR_DEPTH')!)).toEqual({ exchange: 'CRYPTO', symbol: 'BTC_INR', mode: 3 });
  });

  it('rounds every price to the instrument tick size without float noise', () => {
    const tick = new Map(DEFAULT_UNIVERSE.map((i) => [`${i.exchange}:${i.symbol}`, i.tickSize]));
    expect(tick.get('NSE:RELIANCE')).toBe(0.05);
    expect(tick.get('CRYPTO:BTC_INR')).toBe(0.01);
    for (const m of messages) {
      const key = keyOf(m);
      const step = tick.get(`${key.exchange}:${key.symbol}`)!;
      const p = payloadOf(m);
      const [bids, asks] = key.mode === 3 ? sidesOf(p) : [[], []];
      const prices = [p['ltp'], ...[...bids, ...asks].map((l) => (Array.isArray(l) ? l[0] : (l as { price: number }).price))] as number[];
      for (const price of prices) {
        expect(price).toBe(roundTo(price, step));
        expect(price).toBeGreaterThan(0);
      }
    }
  });

  it('shapes payloads like real adapters: epoch-ms timestamps, Quote fields, open interest on futures', () => {
    const ltp = payloadOf(messages.find((m) => m.topic === 'NSE_TCS_LTP')!);
    expect(Object.keys(ltp).sort()).toEqual(['exchange', 'ltp', 'ltt', 'mode', 'symbol', 'timestamp']);
    expect(ltp['timestamp']).toBeGreaterThanOrEqual(T0);
    expect(ltp['timestamp']).toBeLessThanOrEqual(T0 + 20_000);
    expect(Number.isInteger(ltp['timestamp'])).toBe(true);

    const quote = payloadOf(messages.find((m) => m.topic === 'NSE_RELIANCE_QUOTE')!);
    for (const field of [
      'ltp',
      'volume',
      'open',
      'high',
      'low',
      'close',
      'average_price',
      'last_trade_quantity',
      'total_buy_quantity',
      'total_sell_quantity',
      'timestamp',
    ]) {
      expect(quote).toHaveProperty(field);
    }
    expect(quote['low'] as number).toBeLessThanOrEqual(quote['ltp'] as number);
    expect(quote['high'] as number).toBeGreaterThanOrEqual(quote['ltp'] as number);
    expect(quote).not.toHaveProperty('oi');

    const future = payloadOf(messages.find((m) => m.topic === 'NFO_NIFTY30JAN25FUT_QUOTE')!);
    expect(typeof future['oi']).toBe('number');
    expect(future).toHaveProperty('last_quantity');
  });

  it('sends index Quote and Depth ticks without volume or trade fields, as real index feeds do', () => {
    const topics = ['NSE_INDEX_NIFTY_QUOTE', 'NSE_INDEX_NIFTY_DEPTH'];
    for (const topic of topics) {
      const index = payloadOf(messages.find((m) => m.topic === topic)!);
      expect(index).toMatchObject({ symbol: 'NIFTY', exchange: 'NSE_INDEX' });
      for (const field of ['open', 'high', 'low', 'close', 'ltp']) expect(typeof index[field]).toBe('number');
      for (const field of [
        'volume',
        'average_price',
        'last_trade_quantity',
        'last_quantity',
        'total_buy_quantity',
        'total_sell_quantity',
      ]) {
        expect(index).not.toHaveProperty(field);
      }
    }
  });

  it('sends some broker ticks on DEPTH, QUOTE and LTP at once, with one timestamp', () => {
    const triples = messages.filter(
      (m, i) =>
        m.topic === 'NSE_RELIANCE_DEPTH' &&
        messages[i + 1]?.topic === 'NSE_RELIANCE_QUOTE' &&
        messages[i + 2]?.topic === 'NSE_RELIANCE_LTP' &&
        payloadOf(m)['timestamp'] === payloadOf(messages[i + 2]!)['timestamp'],
    );
    expect(triples.length).toBeGreaterThan(0);
  });

  it('spells books three ways: depth {buy, sell}, bids/asks level objects, and [price, quantity] pairs', () => {
    const depthOf = (topic: string) => payloadOf(messages.find((m) => m.topic === topic)!);
    const nse = depthOf('NSE_RELIANCE_DEPTH');
    const [buy, sell] = sidesOf(nse);
    expect(buy).toHaveLength(5);
    expect(sell).toHaveLength(5);
    expect(Object.keys(buy[0] as object).sort()).toEqual(['orders', 'price', 'quantity']);

    const btc = depthOf('CRYPTO_BTC_INR_DEPTH');
    expect(btc).not.toHaveProperty('depth');
    expect((btc['bids'] as unknown[][])[0]).toHaveLength(2);
    expect((btc['asks'] as unknown[][]).every((l) => Array.isArray(l))).toBe(true);

    const eth = depthOf('CRYPTO_ETH_INR_DEPTH');
    expect(Object.keys((eth['bids'] as object[])[0]!).sort()).toEqual(['orders', 'price', 'quantity']);
  });

  it('keeps bids below asks when the book is sorted', () => {
    for (const m of messages.filter((x) => keyOf(x).mode === 3)) {
      const [bids, asks] = sidesOf(payloadOf(m));
      const sorted = normalizeBook({ bids, asks }) as { bids: unknown[]; asks: unknown[] };
      const price = (l: unknown) => (Array.isArray(l) ? (l[0] as number) : (l as { price: number }).price);
      expect(price(sorted.bids[0])).toBeLessThan(price(sorted.asks[0]));
    }
  });

  const books = (unsortedRatio: number, depthLevels = 5) =>
    run({ unsortedRatio, depthLevels, symbols: 5 }, 10_000)
      .messages.filter((m) => keyOf(m).mode === 3)
      .map((m) => sidesOf(payloadOf(m)));
  const sorted = ([bids, asks]: [unknown[], unknown[]]) => isSideSorted(bids, 'bid') && isSideSorted(asks, 'ask');

  it('publishes only sorted books at --unsorted-ratio 0 and only unsorted ones at 1', () => {
    const none = books(0);
    const all = books(1);
    expect(none.length).toBeGreaterThan(10);
    expect(none.every(sorted)).toBe(true);
    expect(all.length).toBeGreaterThan(10);
    expect(all.every((b) => !isSideSorted(b[0], 'bid') && !isSideSorted(b[1], 'ask'))).toBe(true);
  });

  it('mixes sorted and unsorted books in between, and every unsorted one normalises to book order', () => {
    const mixed = books(0.5);
    expect(mixed.some(sorted)).toBe(true);
    expect(mixed.some((b) => !sorted(b))).toBe(true);
    for (const [bids, asks] of mixed) {
      const n = normalizeBook({ bids, asks }) as { bids: unknown[]; asks: unknown[] };
      expect(isSideSorted(n.bids, 'bid') && isSideSorted(n.asks, 'ask')).toBe(true);
      expect(n.bids).toHaveLength(bids.length);
    }
  });

  it('sends --depth-levels levels per side', () => {
    for (const levels of [20, 50]) {
      const all = books(0, levels);
      expect(all.every(([b, a]) => b.length === levels && a.length === levels)).toBe(true);
    }
  });

  it('ticks each instrument about --rate times a second (jittered), spread over small batches', () => {
    const { messages: ms, batches } = run({ symbols: 5, rate: 4 }, 10_000);
    const brokerTicks = new Map<string, Set<number>>();
    for (const m of ms) {
      const k = keyOf(m);
      const set = brokerTicks.get(k.symbol) ?? new Set<number>();
      set.add(payloadOf(m)['timestamp'] as number);
      brokerTicks.set(k.symbol, set);
    }
    expect([...brokerTicks.keys()].sort()).toEqual(['BTC_INR', 'INFY', 'NIFTY', 'RELIANCE', 'TCS']);
    for (const ticks of brokerTicks.values()) {
      expect(ticks.size).toBeGreaterThanOrEqual(30);
      expect(ticks.size).toBeLessThanOrEqual(55);
    }
    // 5 instruments × 4/s asked every 10 ms: never more than a couple of broker ticks per batch.
    expect(Math.max(...batches)).toBeLessThanOrEqual(9);
  });

  it('takes --symbols from the universe in order, then synthetic NSE equities', () => {
    expect(new Market({ ...BASE, symbols: 5 }).instruments.map((i) => `${i.exchange}:${i.symbol}`)).toEqual([
      'NSE:RELIANCE',
      'NSE:TCS',
      'NSE:INFY',
      'NSE_INDEX:NIFTY',
      'CRYPTO:BTC_INR',
    ]);
    const big = new Market({ ...BASE, symbols: DEFAULT_UNIVERSE.length + 2 }).instruments.slice(-2);
    expect(big.map((i) => `${i.exchange}:${i.symbol}:${i.tickSize}`)).toEqual([
      `NSE:SIM${String(DEFAULT_UNIVERSE.length + 1).padStart(4, '0')}:0.05`,
      `NSE:SIM${String(DEFAULT_UNIVERSE.length + 2).padStart(4, '0')}:0.05`,
    ]);
  });

  it('bursts on three instruments (indices and futures first) at --burst-rate during a burst window only', () => {
    const { market, messages: ms } = run({ burst: true, burstRate: 200 }, 4_000);
    expect(market.bursting.map((i) => i.symbol)).toEqual(['NIFTY', 'BANKNIFTY', 'NIFTY30JAN25FUT']);
    const niftyTicks = (from: number, to: number) =>
      new Set(
        ms
          .filter((m) => m.topic.startsWith('NSE_INDEX_NIFTY_'))
          .map((m) => payloadOf(m)['timestamp'] as number)
          .filter((t) => t >= T0 + from && t < T0 + to),
      ).size;
    expect(niftyTicks(0, BURST_ON_MS)).toBeGreaterThan(250);
    expect(niftyTicks(BURST_ON_MS + 100, 4_000)).toBeLessThan(10);
    expect(new Market({ ...BASE }).bursting).toEqual([]);
  });

  it('skips a backlog over a second instead of sending it in one lump', () => {
    const market = new Market({ ...BASE, symbols: 5, rate: 10 });
    market.next(T0);
    // One broker tick per instrument, stamped now: none of the minute's ~600 missed ticks.
    const stamps = new Map<string, Set<unknown>>();
    for (const m of market.next(T0 + 60_000)) {
      const symbol = keyOf(m).symbol;
      stamps.set(symbol, (stamps.get(symbol) ?? new Set()).add(payloadOf(m)['timestamp']));
    }
    expect(Object.fromEntries([...stamps].map(([symbol, at]) => [symbol, [...at]]))).toEqual({
      RELIANCE: [T0 + 60_000],
      TCS: [T0 + 60_000],
      INFY: [T0 + 60_000],
      NIFTY: [T0 + 60_000],
      BTC_INR: [T0 + 60_000],
    });
  });
});

describe('simulator options', () => {
  const resolve = (argv: string[], env: Record<string, string> = {}) => resolveOptions(SIM_OPTIONS, parseArgs(argv, SIM_OPTIONS).raw, env);

  it('reads TICKCAST_SIM_* env, and a flag beats it', () => {
    const env = { TICKCAST_SIM_RATE: '7', TICKCAST_SIM_ZMQ_CONNECT: 'tcp://127.0.0.1:6000', TICKCAST_ZMQ_CONNECT: 'tcp://10.0.0.1:1' };
    const fromEnv = buildSimConfig(resolve([], env));
    expect([fromEnv.rate, fromEnv.zmqConnect]).toEqual([7, 'tcp://127.0.0.1:6000']);
    const fromFlag = buildSimConfig(resolve(['--rate', '3', '--zmq-connect=tcp://127.0.0.1:7000'], env));
    expect([fromFlag.rate, fromFlag.zmqConnect]).toEqual([3, 'tcp://127.0.0.1:7000']);
  });

  it('defaults to the proxy default endpoint and the whole universe', () => {
    const c = buildSimConfig(resolve([]));
    expect([c.zmqConnect, c.symbols, c.rate, c.burst, c.depthLevels, c.unsortedRatio]).toEqual([
      'tcp://127.0.0.1:5555',
      DEFAULT_UNIVERSE.length,
      2,
      false,
      20,
      0.1,
    ]);
    expect(Number.isInteger(c.seed)).toBe(true);
    expect(buildSimConfig(resolve(['--seed', '9'])).seed).toBe(9);
  });

  it('rejects depth levels other than 5, 20, 50 and ratios outside 0..1, naming the flag', () => {
    expect(() => resolve(['--depth-levels', '10'])).toThrow(/--depth-levels.*5, 20, 50/);
    expect(() => resolve(['--unsorted-ratio', '1.5'])).toThrow(/--unsorted-ratio.*at most 1/);
    expect(() => buildSimConfig(resolve(['--zmq-connect', 'localhost:5555']))).toThrow(/--zmq-connect/);
  });

  it('never shares an env var with the proxy options', () => {
    expect(SIM_OPTIONS.every((s) => s.env?.startsWith('TICKCAST_SIM_'))).toBe(true);
  });
});
