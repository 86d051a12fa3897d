import type { TestScheduler } from 'rxjs/testing';
import { type InvalidReason, type MarketDataOptions, marketData, marketTicks, type RawTick, type Tick } from '../streams';
import { expectMarbles } from '../test/helpers/marbles';

const raw = (topic: string, payload: string | Uint8Array): RawTick => ({ topic, payload });

/** The tick `marketTicks` should make of a payload it did not have to change: `json` is its text. */
function unchanged(exchange: string, symbol: string, mode: 1 | 2 | 3, key: string, json: string): Tick {
  return { exchange, symbol, mode, key, data: JSON.parse(json), json, bytes: undefined };
}

/** A message on NSE_TCS_LTP: `{"ltp":n}`, or the given payload text. */
const tcs = (ltp: number | string): RawTick => raw('NSE_TCS_LTP', typeof ltp === 'number' ? `{"ltp":${ltp}}` : ltp);
/** The tick `marketTicks` makes of `tcs(n)`. */
const tcsTick = (ltp: number): Tick => unchanged('NSE', 'TCS', 1, 'NSE_TCS_LTP', `{"ltp":${ltp}}`);

/** `marketTicks(options)` on the test scheduler, recording `onInvalid` calls with their frame. */
function pipeline(options: MarketDataOptions = {}) {
  const invalid: [InvalidReason, RawTick, number][] = [];
  const make = (scheduler: TestScheduler) =>
    marketTicks({ scheduler, onInvalid: (reason, r) => invalid.push([reason, r, scheduler.now()]), ...options });
  return { make, invalid };
}

describe('marketTicks', () => {
  it('decodes a message into a tick whose json is the payload text, from a string or UTF-8 bytes (kept as bytes, unless a BOM leads)', () => {
    const text = '{"ltp": 1418.4, "ltt":1746171226000}';
    const bytes = new TextEncoder().encode('{"ltp":22000.5,"volume":10}');
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"ltp":5}')]);
    const src = {
      a: raw('NSE_TCS_LTP', text),
      b: raw('NSE_INDEX_NIFTY_QUOTE', bytes),
      c: raw('NSE_INFY_LTP', withBom),
    };
    const exp = {
      A: unchanged('NSE', 'TCS', 1, 'NSE_TCS_LTP', text),
      B: { ...unchanged('NSE_INDEX', 'NIFTY', 2, 'NSE_INDEX_NIFTY_QUOTE', '{"ltp":22000.5,"volume":10}'), bytes },
      // TextDecoder drops the BOM from the text, so the bytes are not its encoding: no bytes.
      C: unchanged('NSE', 'INFY', 1, 'NSE_INFY_LTP', '{"ltp":5}'),
    };
    const { make, invalid } = pipeline();
    // prettier-ignore
    const m = {
      src:  'a b c |',   // a@0 b@1 c@2 |@3
      subs: '^ 2ms !',   // ^@0 !@3
      exp:  'A B C |',   // A@0 B@1 C@2 |@3
    };
    expectMarbles(m, make, { src, exp });
    expect(invalid).toEqual([]);
  });

  it('throttles per topic key: an LTP tick never replaces a pending Depth tick of the same symbol', () => {
    const src = {
      a: raw('NSE_TCS_DEPTH', '{"ltp":1}'),
      b: raw('NSE_TCS_DEPTH', '{"ltp":2}'),
      l: tcs(3),
    };
    const exp = {
      A: unchanged('NSE', 'TCS', 3, 'NSE_TCS_DEPTH', '{"ltp":1}'),
      B: unchanged('NSE', 'TCS', 3, 'NSE_TCS_DEPTH', '{"ltp":2}'),
      L: tcsTick(3),
    };
    // prettier-ignore
    const m = {
      src:  'a 9ms b 9ms l 200ms |',   // a@0 b@10 l@20 |@221
      subs: '^ 220ms !',               // ^@0 !@221
      exp:  'A 19ms L 79ms B 120ms |', // A@0 L@20 B@100 |@221
    };
    expectMarbles(m, pipeline().make, { src, exp });
  });

  it('gives topics that differ only in the case of the mode one key, and sends the latest of them', () => {
    const src = {
      a: raw('NSE_TCS_ltp', '{"ltp":1}'),
      b: tcs(2),
      c: raw('NSE_TCS_Ltp', '{"ltp":3}'),
    };
    const exp = { A: tcsTick(1), C: tcsTick(3) };
    // prettier-ignore
    const m = {
      src:  'a 9ms b 9ms c 200ms |', // a@0 b@10 c@20 |@221
      subs: '^ 220ms !',             // ^@0 !@221
      exp:  'A 99ms C 120ms |',      // A@0 C@100 |@221
    };
    expectMarbles(m, pipeline().make, { src, exp });
  });

  it('decodes only the ticks that survive the throttle: a bad payload throttled away is never reported', () => {
    const src = { a: tcs(1), x: tcs('{"ltp":'), c: tcs(3) };
    const exp = { A: tcsTick(1), C: tcsTick(3) };
    const { make, invalid } = pipeline();
    // prettier-ignore
    const m = {
      src:  'a 9ms x 9ms c 200ms |', // a@0 x@10 c@20 |@221
      subs: '^ 220ms !',             // ^@0 !@221
      exp:  'A 99ms C 120ms |',      // A@0 C@100 |@221
    };
    expectMarbles(m, make, { src, exp });
    expect(invalid).toEqual([]);
  });

  it('parses the JSON of surviving ticks only', () => {
    const src = { a: tcs(1), b: tcs(2), c: tcs(3), d: tcs(4) };
    const exp = { A: tcsTick(1), D: tcsTick(4) };
    // prettier-ignore
    const m = {
      src:  'a b c d 200ms |',  // a@0 b@1 c@2 d@3 |@204
      subs: '^ 203ms !',        // ^@0 !@204
      exp:  'A 99ms D 103ms |', // A@0 D@100 |@204
    };
    const parse = jest.spyOn(JSON, 'parse');
    let parses: string[];
    try {
      expectMarbles(m, (scheduler) => marketTicks({ scheduler }), { src, exp });
      parses = parse.mock.calls.map((call) => call[0] as string);
    } finally {
      parse.mockRestore();
    }
    // `exp` was built before the spy; only the pipeline parsed, and only a and d.
    expect(parses).toEqual(['{"ltp":1}', '{"ltp":4}']);
  });

  it('reports a bad payload that survives the throttle as "json", when it is decoded, and keeps going', () => {
    const src = { a: tcs(1), x: tcs('not json'), c: tcs(3) };
    const exp = { A: tcsTick(1), C: tcsTick(3) };
    const { make, invalid } = pipeline();
    // prettier-ignore
    const m = {
      src:  'a 9ms x 289ms c 100ms |', // a@0 x@10 c@300 |@401
      subs: '^ 400ms !',               // ^@0 !@401
      exp:  'A 299ms C 100ms |',       // A@0 (x decoded and dropped @100) C@300 |@401
    };
    expectMarbles(m, make, { src, exp });
    expect(invalid).toEqual([['json', src.x, 100]]);
  });

  it('skips each malformed message, tells onInvalid its exact reason, and never ends the stream', () => {
    const src = {
      o: raw('ZERODHA_U1_orders', '{"order_id":"1"}'),
      i: raw('CACHE_INVALIDATE_ALL', '{}'),
      z: null as unknown as RawTick,
      e: raw('NSE_A_LTP', new Uint8Array([0x7b, 0xff, 0x7d])),
      j: raw('NSE_B_LTP', '{"ltp":1,}'),
      n: raw('NSE_C_LTP', '[1,2]'),
      u: raw('NSE_D_LTP', 'null'),
      g: tcs(5),
    };
    const exp = { G: tcsTick(5) };
    const { make, invalid } = pipeline();
    // prettier-ignore
    const m = {
      src:  'o i z e j n u g |', // o@0 i@1 z@2 e@3 j@4 n@5 u@6 g@7 |@8
      subs: '^ 7ms !',           // ^@0 !@8
      exp:  '7ms G |',           // G@7 |@8
    };
    expectMarbles(m, make, { src, exp });
    expect(invalid).toEqual([
      ['topic', src.o, 0],
      ['topic', src.i, 1],
      ['topic', null, 2],
      ['encoding', src.e, 3],
      ['json', src.j, 4],
      ['not_object', src.n, 5],
      ['not_object', src.u, 6],
    ]);
  });

  it('keeps going when onInvalid itself throws', () => {
    const src = { x: raw('NSE_TCS_orders', '{}'), g: tcs(5) };
    const exp = { G: tcsTick(5) };
    const onInvalid = jest.fn(() => {
      throw new Error('reporter down');
    });
    // prettier-ignore
    const m = {
      src:  'x g |',   // x@0 g@1 |@2
      subs: '^ 1ms !', // ^@0 !@2
      exp:  '- G |',   // G@1 |@2
    };
    expectMarbles(m, (scheduler) => marketTicks({ scheduler, onInvalid }), { src, exp });
    expect(onInvalid).toHaveBeenCalledTimes(1);
  });

  it('sorts Depth books into book order, in the shape they came in, and drops json because data changed', () => {
    const src = {
      d: raw(
        'NSE_TCS_DEPTH',
        '{"ltp":100,"depth":{"buy":[{"price":99,"quantity":1,"orders":1},{"price":100.5,"quantity":2,"orders":3}],' +
          '"sell":[{"price":101.5,"quantity":4,"orders":1},{"price":101,"quantity":5,"orders":2}]}}',
      ),
      c: raw('CRYPTO_BTC_INR_DEPTH', '{"bids":[["99","1"],["100","2"]],"asks":[["102","1"],["101","3"]]}'),
    };
    const exp: Record<string, Tick> = {
      D: {
        exchange: 'NSE',
        symbol: 'TCS',
        mode: 3,
        key: 'NSE_TCS_DEPTH',
        json: undefined,
        bytes: undefined,
        data: {
          ltp: 100,
          depth: {
            buy: [
              { price: 100.5, quantity: 2, orders: 3 },
              { price: 99, quantity: 1, orders: 1 },
            ],
            sell: [
              { price: 101, quantity: 5, orders: 2 },
              { price: 101.5, quantity: 4, orders: 1 },
            ],
          },
        },
      },
      C: {
        exchange: 'CRYPTO',
        symbol: 'BTC_INR',
        mode: 3,
        key: 'CRYPTO_BTC_INR_DEPTH',
        json: undefined,
        bytes: undefined,
        data: {
          bids: [
            ['100', '2'],
            ['99', '1'],
          ],
          asks: [
            ['101', '3'],
            ['102', '1'],
          ],
        },
      },
    };
    // prettier-ignore
    const m = {
      src:  'd c |',   // d@0 c@1 |@2
      subs: '^ 1ms !', // ^@0 !@2
      exp:  'D C |',   // D@0 C@1 |@2 (json undefined: data changed, and equality is strict)
    };
    expectMarbles(m, pipeline().make, { src, exp });
  });

  it('caps each side of a book at maxLevels', () => {
    const src = { d: raw('NSE_TCS_DEPTH', '{"bids":[[3,1],[2,1],[1,1]],"asks":[[4,1],[5,1],[6,1]]}') };
    const exp: Record<string, Tick> = {
      D: {
        exchange: 'NSE',
        symbol: 'TCS',
        mode: 3,
        key: 'NSE_TCS_DEPTH',
        json: undefined,
        bytes: undefined,
        data: {
          bids: [
            [3, 1],
            [2, 1],
          ],
          asks: [
            [4, 1],
            [5, 1],
          ],
        },
      },
    };
    // prettier-ignore
    const m = {
      src:  'd |', // d@0 |@1
      subs: '^ !', // ^@0 !@1
      exp:  'D |', // D@0 |@1
    };
    expectMarbles(m, pipeline({ maxLevels: 2 }).make, { src, exp });
  });

  it('keeps json when the book was already in order and within the cap', () => {
    const text = '{"ltp":100, "depth":{"buy":[{"price":100,"quantity":1}],"sell":[{"price":101,"quantity":1}]}}';
    const src = { d: raw('NSE_TCS_DEPTH', text) };
    const exp = { D: unchanged('NSE', 'TCS', 3, 'NSE_TCS_DEPTH', text) };
    // prettier-ignore
    const m = {
      src:  'd |', // d@0 |@1
      subs: '^ !', // ^@0 !@1
      exp:  'D |', // D@0 |@1
    };
    expectMarbles(m, pipeline().make, { src, exp });
  });

  it('passes every tick through when throttleMs is 0', () => {
    const src = { a: tcs(1), b: tcs(2), c: tcs(3) };
    const exp = { A: tcsTick(1), B: tcsTick(2), C: tcsTick(3) };
    // prettier-ignore
    const m = {
      src:  'a b 5ms c |', // a@0 b@1 c@7 |@8
      subs: '^ 7ms !',     // ^@0 !@8
      exp:  'A B 5ms C |', // A@0 B@1 C@7 |@8
    };
    expectMarbles(m, pipeline({ throttleMs: 0 }).make, { src, exp });
  });

  it('tears everything down on unsubscribe: the source, and the pending tick is never decoded', () => {
    const src = { a: tcs(1), x: tcs('not json'), c: tcs(3) };
    const exp = { A: tcsTick(1) };
    const { make, invalid } = pipeline();
    // prettier-ignore
    const m = {
      src:   'a 9ms x 200ms c 9ms c', // a@0 x@10 c@211 c@221
      unsub: '^ 49ms !',              // ^@0 !@50
      subs:  '^ 49ms !',              // ^@0 !@50
      exp:   'A',                     // A@0; x would be decoded (and reported) at 100
    };
    expectMarbles(m, make, { src, exp });
    expect(invalid).toEqual([]);
  });

  it('reads exchanges with the twoSegmentExchanges it is given', () => {
    const src = {
      f: raw('CDS_FUT_USDINR_QUOTE', '{"ltp":83.1}'),
      n: raw('NSE_INDEX_NIFTY_LTP', '{"ltp":22000}'),
    };
    const exp = {
      F: unchanged('CDS_FUT', 'USDINR', 2, 'CDS_FUT_USDINR_QUOTE', '{"ltp":83.1}'),
      N: unchanged('NSE', 'INDEX_NIFTY', 1, 'NSE_INDEX_NIFTY_LTP', '{"ltp":22000}'),
    };
    // prettier-ignore
    const m = {
      src:  'f n |',   // f@0 n@1 |@2
      subs: '^ 1ms !', // ^@0 !@2
      exp:  'F N |',   // F@0 N@1 |@2
    };
    expectMarbles(m, pipeline({ twoSegmentExchanges: ['CDS_FUT'] }).make, { src, exp });
  });
});

describe('marketData', () => {
  it('applies marketTicks to the source it is given', () => {
    const src = { a: tcs(1), b: tcs(2) };
    const exp = { A: tcsTick(1), B: tcsTick(2) };
    // prettier-ignore
    const m = {
      src:  'a 9ms b 9ms |', // a@0 b@10 |@20
      subs: '^ 19ms !',      // ^@0 !@20
      exp:  'A 99ms (B|)',   // A@0 B@100 |@100
    };
    expectMarbles(m, (scheduler) => (raw$) => marketData(raw$, { scheduler }), { src, exp });
  });
});
