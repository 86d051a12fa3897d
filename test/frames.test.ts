import { frameHead, frameTail, hasBook, TickEncoder, toDepthShape, withoutBook, type FrameOptions } from '../src/frames';
import { formatTopic, type Mode, type Tick } from '../streams';

function tick(mode: Mode, data: Record<string, unknown>, json?: string): Tick {
  const key = formatTopic({ exchange: 'NSE', symbol: 'TCS', mode });
  return { exchange: 'NSE', symbol: 'TCS', mode, key, data, json, bytes: undefined };
}

const options: FrameOptions = { broker: 'zerodha' };

/** Counts JSON.stringify calls made by `fn`. */
function stringifyCalls(fn: () => void): number {
  const spy = jest.spyOn(JSON, 'stringify');
  try {
    fn();
    return spy.mock.calls.length;
  } finally {
    spy.mockRestore();
  }
}

describe('hasBook', () => {
  it.each([
    [{ depth: { buy: [], sell: [] } }, true],
    [{ bids: [] }, true],
    [{ asks: [] }, true],
    [{ ltp: 1 }, false],
    [{ depth: undefined }, false],
  ])('%p → %p', (data, expected) => {
    expect(hasBook(data)).toBe(expected);
  });
});

describe('withoutBook', () => {
  it('drops depth, bids and asks, keeps every other field, and leaves its input alone', () => {
    const data = { ltp: 1, volume: 2, depth: { buy: [] }, bids: [], asks: [], oi: 0 };
    const copy = structuredClone(data);
    expect(JSON.parse(JSON.stringify(withoutBook(data)))).toEqual({ ltp: 1, volume: 2, oi: 0 });
    expect(data).toEqual(copy);
  });

  it('keeps a "__proto__" field from the feed as a plain field', () => {
    const data = JSON.parse('{"ltp":1,"__proto__":{"polluted":true},"depth":{}}') as Record<string, unknown>;
    const out = withoutBook(data);
    expect(JSON.stringify(out)).toBe('{"ltp":1,"__proto__":{"polluted":true}}');
    expect((out as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('toDepthShape', () => {
  it('converts [price, quantity(, orders)] pairs, strings included, into level objects', () => {
    const out = toDepthShape({
      ltp: 5,
      bids: [
        ['99.5', '2'],
        [99, 1, 3],
      ],
      asks: [[101, '4']],
    });
    expect(JSON.parse(JSON.stringify(out))).toEqual({
      ltp: 5,
      depth: {
        buy: [
          { price: 99.5, quantity: 2 },
          { price: 99, quantity: 1, orders: 3 },
        ],
        sell: [{ price: 101, quantity: 4 }],
      },
    });
  });

  it('moves level objects under depth as they are, and gives a missing side as []', () => {
    const level = { price: 1, quantity: 2, orders: 3 };
    const out = toDepthShape({ asks: [level] }) as { depth: { buy: unknown[]; sell: unknown[] } };
    expect(out.depth.buy).toEqual([]);
    expect(out.depth.sell[0]).toBe(level);
    expect(Object.keys(out)).toEqual(['depth']);
  });

  it('returns a depth-shaped or book-less payload itself', () => {
    const depth = { depth: { buy: [], sell: [] }, bids: [[1, 1]] };
    const plain = { ltp: 1 };
    expect(toDepthShape(depth)).toBe(depth);
    expect(toDepthShape(plain)).toBe(plain);
  });

  it('leaves its input alone', () => {
    const data = { bids: [[1, 2]], asks: [] };
    const copy = structuredClone(data);
    toDepthShape(data);
    expect(data).toEqual(copy);
  });
});

describe('TickEncoder', () => {
  it('embeds the payload text of an unchanged tick verbatim, without stringifying', () => {
    const text = '{"ltp": 1418.40, "note":"as sent"}';
    const encoder = new TickEncoder(tick(1, JSON.parse(text), text), options);
    let out = '';
    expect(stringifyCalls(() => (out = encoder.dataJson(1)))).toBe(0);
    expect(out).toBe(text);
  });

  it('stringifies data once when there is no payload text, however many times it is asked', () => {
    const encoder = new TickEncoder(tick(2, { ltp: 1, volume: 2 }), options);
    const outs: string[] = [];
    expect(stringifyCalls(() => [1, 2, 2, 1].forEach((m) => outs.push(encoder.dataJson(m as Mode))))).toBe(1);
    expect(outs).toEqual(Array(4).fill('{"ltp":1,"volume":2}'));
  });

  it('embeds the text of a Depth tick already in depth shape when delivered tagged Depth', () => {
    const text = '{"ltp":1,"depth":{"buy":[{"price":1,"quantity":1}],"sell":[]}}';
    const encoder = new TickEncoder(tick(3, JSON.parse(text), text), options);
    expect(encoder.dataJson(3)).toBe(text);
  });

  it('re-encodes a bids/asks Depth tick in depth shape, ignoring the payload text', () => {
    const text = '{"ltp":1,"bids":[[1,2]],"asks":[]}';
    const encoder = new TickEncoder(tick(3, JSON.parse(text), text), options);
    expect(JSON.parse(encoder.dataJson(3))).toEqual({ ltp: 1, depth: { buy: [{ price: 1, quantity: 2 }], sell: [] } });
  });

  it('leaves the book out when tagged LTP or Quote, encoding that once and the full book once', () => {
    const data = { ltp: 1, depth: { buy: [{ price: 1, quantity: 1 }], sell: [] } };
    const encoder = new TickEncoder(tick(3, data), options);
    const outs: string[] = [];
    expect(stringifyCalls(() => [1, 2, 3, 1, 3].forEach((m) => outs.push(encoder.dataJson(m as Mode))))).toBe(2);
    expect(outs.map((o) => JSON.parse(o))).toEqual([{ ltp: 1 }, { ltp: 1 }, data, { ltp: 1 }, data]);
  });

  it('keeps the book for LTP and Quote tags when omitBooksBelowDepth is false', () => {
    const data = { ltp: 1, bids: [[1, 2]] };
    const encoder = new TickEncoder(tick(3, data), { ...options, omitBooksBelowDepth: false });
    expect(JSON.parse(encoder.dataJson(1))).toEqual({ ltp: 1, depth: { buy: [{ price: 1, quantity: 2 }], sell: [] } });
  });

  it('passes bids/asks through, payload text and all, when booksAsDepth is false', () => {
    const text = '{"ltp":1,"bids":[[1,2]],"asks":[]}';
    const encoder = new TickEncoder(tick(3, JSON.parse(text), text), { ...options, booksAsDepth: false });
    expect(encoder.dataJson(3)).toBe(text);
  });

  it('does not treat a book-like field of an LTP or Quote tick as a book', () => {
    const text = '{"ltp":1,"depth":"n/a"}';
    const encoder = new TickEncoder(tick(2, JSON.parse(text), text), options);
    expect(encoder.dataJson(1)).toBe(text);
  });
});

describe('frameHead and frameTail', () => {
  it('wrap data into the market_data message of protocol.md', () => {
    const text = frameHead('NSE', 'TCS', 2) + '7,"data":' + '{"ltp":1}' + frameTail('zerodha');
    expect(text).toBe('{"type":"market_data","symbol":"TCS","exchange":"NSE","mode":2,"seq":7,"data":{"ltp":1},"broker":"zerodha"}');
  });

  it('escape symbol, exchange and broker as JSON strings', () => {
    const text = frameHead('N"S\\E', 'A\nB', 1) + '1,"data":{}' + frameTail('b"k');
    expect(JSON.parse(text)).toEqual({
      type: 'market_data',
      symbol: 'A\nB',
      exchange: 'N"S\\E',
      mode: 1,
      seq: 1,
      data: {},
      broker: 'b"k',
    });
  });
});
