import { Hub, type Frame, type HubClient, type HubOptions } from '../src/hub';
import { formatTopic, type Mode, type Tick } from '../streams';

const BROKER = 'zerodha';

function tick(exchange: string, symbol: string, mode: Mode, data: Record<string, unknown>, json?: string): Tick {
  const key = formatTopic({ exchange, symbol, mode });
  return { exchange, symbol, mode, key, data, json, bytes: undefined };
}

const ltp = (price: number) => tick('NSE', 'TCS', 1, { ltp: price });
const quote = (price: number) => tick('NSE', 'TCS', 2, { ltp: price, volume: 10 });
/** A Depth tick with a book, as a broker sends it. */
const depth = (price: number) =>
  tick('NSE', 'TCS', 3, {
    ltp: price,
    depth: { buy: [{ price: price - 1, quantity: 5, orders: 1 }], sell: [{ price: price + 1, quantity: 7, orders: 2 }] },
  });

/** The `market_data` message a client should read, as a plain object. */
function marketData(mode: Mode, seq: number, data: Record<string, unknown>, symbol = 'TCS', exchange = 'NSE') {
  return { type: 'market_data', symbol, exchange, mode, seq, data, broker: BROKER };
}

const parse = (frame: Frame): unknown => JSON.parse(frame.bytes.toString('utf8'));

interface Recorder {
  readonly frames: Frame[];
  /** The frames as the client reads them. */
  messages(): unknown[];
  readonly completed: boolean;
}

function record(client: HubClient): Recorder {
  const frames: Frame[] = [];
  let completed = false;
  client.frames$.subscribe({ next: (f) => frames.push(f), complete: () => (completed = true) });
  return {
    frames,
    messages: () => frames.map(parse),
    get completed() {
      return completed;
    },
  };
}

function setup(options: Partial<HubOptions> = {}) {
  const hub = new Hub({ broker: BROKER, ...options });
  /** A client holding `modes` of NSE TCS, and its recorder. */
  const client = (...modes: Mode[]) => {
    const handle = hub.addClient();
    for (const mode of modes) hub.subscribe(handle, 'NSE', 'TCS', mode);
    return { handle, ...record(handle) };
  };
  return { hub, client };
}

describe('Hub: the mode hierarchy of protocol.md', () => {
  // [modes held, mode of the tick, tag of the one frame delivered (null: none)]
  it.each<[Mode[], Mode, Mode | null]>([
    [[1], 1, 1],
    [[1], 2, 1],
    [[1], 3, 1],
    [[2], 1, null],
    [[2], 2, 2],
    [[2], 3, 2],
    [[3], 1, null],
    [[3], 2, null],
    [[3], 3, 3],
    [[1, 2], 1, 1],
    [[1, 2], 2, 2],
    [[1, 2], 3, 2],
    [[1, 3], 1, 1],
    [[1, 3], 2, 1],
    [[1, 3], 3, 3],
    [[2, 3], 1, null],
    [[2, 3], 2, 2],
    [[2, 3], 3, 3],
    [[1, 2, 3], 1, 1],
    [[1, 2, 3], 2, 2],
    [[1, 2, 3], 3, 3],
  ])('a client holding %j gets a tick on mode %i as one frame tagged %p', (held, mode, tag) => {
    const { hub, client } = setup();
    const c = client(...held);
    hub.publish(tick('NSE', 'TCS', mode, { ltp: 1 }));
    expect(c.messages()).toEqual(tag === null ? [] : [marketData(tag, 1, { ltp: 1 })]);
  });

  it('never sends a tick of one symbol to holders of another symbol or exchange', () => {
    const { hub } = setup();
    const other = hub.addClient();
    hub.subscribe(other, 'NSE', 'INFY', 1);
    hub.subscribe(other, 'BSE', 'TCS', 1);
    const r = record(other);
    hub.publish(depth(100));
    expect(r.frames).toEqual([]);
  });

  it('delivers one frame per client, with the same Buffer for every client of the same tag', () => {
    const { hub, client } = setup();
    const a = client(1);
    const b = client(2);
    const c = client(3);
    const d = client(1, 2, 3);
    const e = client(1, 3);
    const f = client(1);
    hub.publish(quote(100));
    expect([a, b, c, d, e, f].map((r) => r.frames.length)).toEqual([1, 1, 0, 1, 1, 1]);
    expect(a.frames[0]!.bytes).toBe(e.frames[0]!.bytes);
    expect(a.frames[0]!.bytes).toBe(f.frames[0]!.bytes);
    expect(b.frames[0]!.bytes).toBe(d.frames[0]!.bytes);
    expect(a.frames[0]!.bytes).not.toBe(b.frames[0]!.bytes);
    expect(a.messages()).toEqual([marketData(1, 1, { ltp: 100, volume: 10 })]);
    expect(b.messages()).toEqual([marketData(2, 1, { ltp: 100, volume: 10 })]);
  });

  it('encodes a tick once per delivered mode, not once per client', () => {
    const { hub, client } = setup();
    const clients = [...Array.from({ length: 50 }, () => client(1)), ...Array.from({ length: 50 }, () => client(3))];
    // The first tick of a symbol also builds its frame heads (once per symbol and tag).
    hub.publish(depth(99));
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      hub.publish(depth(100));
      // One for the book-less LTP frame, one for the Depth frame (data has no json text to reuse).
      expect(stringify).toHaveBeenCalledTimes(2);
    } finally {
      stringify.mockRestore();
    }
    expect(new Set(clients.map((c) => c.frames[1]!.bytes)).size).toBe(2);
  });

  it('tags frames with a stable slot per (exchange, symbol, delivered mode)', () => {
    const { hub, client } = setup();
    const c = client(1, 3);
    hub.publish(ltp(1));
    hub.publish(depth(2));
    hub.publish(ltp(3));
    const [first, second, third] = c.frames;
    expect(first!.slot).toEqual({ exchange: 'NSE', symbol: 'TCS', mode: 1 });
    expect(second!.slot).toEqual({ exchange: 'NSE', symbol: 'TCS', mode: 3 });
    expect(third!.slot).toBe(first!.slot);
  });

  it('writes the exact frame bytes of protocol.md, with symbol and exchange JSON-escaped', () => {
    const { hub } = setup();
    const c = hub.addClient();
    hub.subscribe(c, 'NSE', 'TCS', 1);
    hub.subscribe(c, 'N"SE', 'A\\B', 1);
    const r = record(c);
    hub.publish(tick('NSE', 'TCS', 1, { ltp: 1418.4 }, '{"ltp":1418.4}'));
    hub.publish(tick('N"SE', 'A\\B', 1, { ltp: 1 }));
    expect(r.frames.map((f) => f.bytes.toString('utf8'))).toEqual([
      '{"type":"market_data","symbol":"TCS","exchange":"NSE","mode":1,"seq":1,"data":{"ltp":1418.4},"broker":"zerodha"}',
      '{"type":"market_data","symbol":"A\\\\B","exchange":"N\\"SE","mode":1,"seq":1,"data":{"ltp":1},"broker":"zerodha"}',
    ]);
    expect(r.messages()[1]).toEqual(marketData(1, 1, { ltp: 1 }, 'A\\B', 'N"SE'));
  });
});

describe('Hub: frames from the payload bytes', () => {
  it('copies the bytes a tick arrived with into the frame: the same bytes as encoding its text, non-ASCII included', () => {
    const json = '{"ltp":1418.4,"name":"Tata Consultancy – ₹","note":"é"}';
    const data = JSON.parse(json) as Record<string, unknown>;
    const key = formatTopic({ exchange: 'NSE', symbol: 'TCS€', mode: 1 });
    const viaText = setup();
    const a = viaText.hub.addClient();
    viaText.hub.subscribe(a, 'NSE', 'TCS€', 1);
    const ra = record(a);
    viaText.hub.publish({ exchange: 'NSE', symbol: 'TCS€', mode: 1, key, data, json, bytes: undefined });
    const viaBytes = setup();
    const b = viaBytes.hub.addClient();
    viaBytes.hub.subscribe(b, 'NSE', 'TCS€', 1);
    const rb = record(b);
    const bytes = Buffer.from(json, 'utf8');
    viaBytes.hub.publish({ exchange: 'NSE', symbol: 'TCS€', mode: 1, key, data, json, bytes });
    expect(rb.frames[0]!.bytes.equals(ra.frames[0]!.bytes)).toBe(true);
    expect(rb.frames[0]!.bytes.toString('utf8')).toBe(
      `{"type":"market_data","symbol":"TCS€","exchange":"NSE","mode":1,"seq":1,"data":${json},"broker":"zerodha"}`,
    );
    // The frame is a copy: reusing the read buffer afterwards does not change what clients get.
    bytes.fill(0x20);
    expect(rb.messages()[0]).toEqual(marketData(1, 1, data, 'TCS€'));
  });

  it('serves a later subscriber the same frame bytes from the snapshot, after the read buffer was reused', () => {
    const { hub } = setup();
    const json = '{"ltp":7,"volume":10}';
    const bytes = Buffer.from(json, 'utf8');
    hub.publish({ ...quote(7), json, bytes });
    bytes.fill(0x20);
    const snap = hub.snapshot('NSE', 'TCS', 2);
    expect(snap && parse(snap)).toEqual(marketData(2, 1, { ltp: 7, volume: 10 }));
  });
});

describe('Hub: seq', () => {
  it('counts, per delivered mode m, every tick of mode ≥ m, the same for every client', () => {
    const { hub, client } = setup();
    const l = client(1);
    const q = client(2);
    const d = client(3);
    const ld = client(1, 3);
    const l2 = client(1);
    hub.publish(ltp(1));
    hub.publish(quote(2));
    hub.publish(depth(3));
    hub.publish(ltp(4));
    hub.publish(depth(5));
    const seqs = (r: Recorder) => r.frames.map((f) => [f.slot.mode, f.seq]);
    expect(seqs(l)).toEqual([[1, 1], [1, 2], [1, 3], [1, 4], [1, 5]]);
    expect(seqs(l2)).toEqual(seqs(l));
    expect(seqs(q)).toEqual([[2, 1], [2, 2], [2, 3]]);
    expect(seqs(d)).toEqual([[3, 1], [3, 2]]);
    // The Depth ticks reach this client tagged 3, so its LTP stream shows them as jumps (2 → 4).
    expect(seqs(ld)).toEqual([[1, 1], [1, 2], [3, 1], [1, 4], [3, 2]]);
    expect(l.messages().map((m) => (m as { seq: number }).seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('counts ticks published before anyone held the symbol', () => {
    const { hub, client } = setup();
    hub.publish(ltp(1));
    hub.publish(ltp(2));
    const c = client(1);
    hub.publish(ltp(3));
    expect(c.messages()).toEqual([marketData(1, 3, { ltp: 3 })]);
  });

  it('keeps a separate count per symbol and exchange', () => {
    const { hub } = setup();
    const c = hub.addClient();
    hub.subscribe(c, 'NSE', 'TCS', 1);
    hub.subscribe(c, 'NSE', 'INFY', 1);
    hub.subscribe(c, 'BSE', 'TCS', 1);
    const r = record(c);
    hub.publish(ltp(1));
    hub.publish(ltp(2));
    hub.publish(tick('NSE', 'INFY', 1, { ltp: 3 }));
    hub.publish(tick('BSE', 'TCS', 1, { ltp: 4 }));
    expect(r.frames.map((f) => [f.slot.exchange, f.slot.symbol, f.seq])).toEqual([
      ['NSE', 'TCS', 1],
      ['NSE', 'TCS', 2],
      ['NSE', 'INFY', 1],
      ['BSE', 'TCS', 1],
    ]);
  });
});

describe('Hub: snapshot', () => {
  it('is undefined for a symbol the hub has never seen, and before any tick of a held one', () => {
    const { hub, client } = setup();
    expect(hub.snapshot('NSE', 'NOPE', 1)).toBeUndefined();
    client(1, 2, 3);
    expect([1, 2, 3].map((m) => hub.snapshot('NSE', 'TCS', m as Mode))).toEqual([undefined, undefined, undefined]);
  });

  it('is the newest tick among the topics of mode ≥ M, tagged M, with that tag’s current seq', () => {
    const { hub } = setup();
    const snap = (mode: Mode) => {
      const frame = hub.snapshot('NSE', 'TCS', mode);
      return frame && parse(frame);
    };
    hub.publish(ltp(1));
    expect([snap(1), snap(2), snap(3)]).toEqual([marketData(1, 1, { ltp: 1 }), undefined, undefined]);

    hub.publish(depth(2));
    // Tagged 1 and 2, the Depth tick loses its book (the client did not ask for one).
    expect([snap(1), snap(2), snap(3)]).toEqual([
      marketData(1, 2, { ltp: 2 }),
      marketData(2, 1, { ltp: 2 }),
      marketData(3, 1, depth(2).data),
    ]);

    hub.publish(ltp(3));
    hub.publish(quote(4));
    expect([snap(1), snap(2), snap(3)]).toEqual([
      marketData(1, 4, { ltp: 4, volume: 10 }),
      marketData(2, 2, { ltp: 4, volume: 10 }),
      marketData(3, 1, depth(2).data),
    ]);
  });

  it('reads snapshots of every mode back from the frame a holder got, payload text or re-sorted book alike', () => {
    const { hub, client } = setup();
    client(3);
    const snap = (mode: Mode) => {
      const frame = hub.snapshot('NSE', 'TCS', mode);
      return frame && parse(frame);
    };
    const text = JSON.stringify(depth(2).data);
    hub.publish({ ...depth(2), json: text, bytes: Buffer.from(text) });
    const first = [marketData(1, 1, { ltp: 2 }), marketData(2, 1, { ltp: 2 }), marketData(3, 1, depth(2).data)];
    expect([snap(1), snap(2), snap(3)]).toEqual(first);
    // A book the feed sent unsorted arrives without text (data was re-sorted): same answers.
    hub.publish(depth(5));
    expect([snap(1), snap(2), snap(3)]).toEqual([marketData(1, 2, { ltp: 5 }), marketData(2, 2, { ltp: 5 }), marketData(3, 2, depth(5).data)]);
    // A later LTP tick replaces mode 1 only.
    hub.publish({ ...ltp(6), json: '{"ltp":6}' });
    expect([snap(1), snap(2), snap(3)]).toEqual([marketData(1, 3, { ltp: 6 }), marketData(2, 2, { ltp: 5 }), marketData(3, 2, depth(5).data)]);
  });

  it('reuses the frame already built for a delivered tick instead of encoding again', () => {
    const { hub, client } = setup();
    const c = client(2);
    hub.publish(quote(1));
    const stringify = jest.spyOn(JSON, 'stringify');
    let frame: Frame | undefined;
    try {
      frame = hub.snapshot('NSE', 'TCS', 2);
      expect(hub.snapshot('NSE', 'TCS', 2)).toBe(frame);
      expect(stringify).not.toHaveBeenCalled();
    } finally {
      stringify.mockRestore();
    }
    expect(frame!.bytes).toBe(c.frames[0]!.bytes);
  });
});

describe('Hub: books', () => {
  it('delivers bids/asks [price, quantity] pairs as depth { buy, sell } level objects', () => {
    const { hub, client } = setup();
    const c = client(3);
    hub.publish(tick('NSE', 'TCS', 3, { ltp: 100, bids: [['99.5', '2'], [99, 1, 4]], asks: [[101, 3]] }));
    expect(c.messages()).toEqual([
      marketData(3, 1, {
        ltp: 100,
        depth: {
          buy: [
            { price: 99.5, quantity: 2 },
            { price: 99, quantity: 1, orders: 4 },
          ],
          sell: [{ price: 101, quantity: 3 }],
        },
      }),
    ]);
  });

  it('delivers bids/asks level objects under depth { buy, sell }, and a missing side as []', () => {
    const { hub, client } = setup();
    const c = client(3);
    hub.publish(tick('NSE', 'TCS', 3, { ltp: 1, bids: [{ price: 9, quantity: 1, orders: 2 }] }));
    expect(c.messages()).toEqual([
      marketData(3, 1, { ltp: 1, depth: { buy: [{ price: 9, quantity: 1, orders: 2 }], sell: [] } }),
    ]);
  });

  it('passes bids/asks through when booksAsDepth is false', () => {
    const { hub, client } = setup({ booksAsDepth: false });
    const c = client(3);
    const data = { ltp: 100, bids: [[99, 1]], asks: [[101, 3]] };
    hub.publish(tick('NSE', 'TCS', 3, data));
    expect(c.messages()).toEqual([marketData(3, 1, data)]);
  });

  it('leaves the book out of a Depth tick delivered tagged LTP or Quote', () => {
    const { hub, client } = setup();
    const l = client(1);
    const q = client(2);
    const d = client(3);
    hub.publish(tick('NSE', 'TCS', 3, { ltp: 100, volume: 5, bids: [[99, 1]], asks: [[101, 1]] }));
    expect(l.messages()).toEqual([marketData(1, 1, { ltp: 100, volume: 5 })]);
    expect(q.messages()).toEqual([marketData(2, 1, { ltp: 100, volume: 5 })]);
    expect(d.messages()).toEqual([
      marketData(3, 1, {
        ltp: 100,
        volume: 5,
        depth: { buy: [{ price: 99, quantity: 1 }], sell: [{ price: 101, quantity: 1 }] },
      }),
    ]);
  });

  it('keeps the book, in depth shape, for LTP and Quote tags when omitBooksBelowDepth is false', () => {
    const { hub, client } = setup({ omitBooksBelowDepth: false });
    const l = client(1);
    const d = client(3);
    hub.publish(tick('NSE', 'TCS', 3, { ltp: 100, bids: [[99, 1]] }));
    const data = { ltp: 100, depth: { buy: [{ price: 99, quantity: 1 }], sell: [] } };
    expect(l.messages()).toEqual([marketData(1, 1, data)]);
    expect(d.messages()).toEqual([marketData(3, 1, data)]);
  });
});

describe('Hub: subscriptions', () => {
  it('subscribe returns true when newly held and false when already held; held lists modes lowest first', () => {
    const { hub } = setup();
    const c = hub.addClient();
    expect(hub.subscribe(c, 'NSE', 'TCS', 3)).toBe(true);
    expect(hub.subscribe(c, 'NSE', 'TCS', 1)).toBe(true);
    expect(hub.subscribe(c, 'NSE', 'TCS', 3)).toBe(false);
    expect(hub.held(c, 'NSE', 'TCS')).toEqual([1, 3]);
    expect(hub.held(c, 'NSE', 'INFY')).toEqual([]);
    expect(hub.countHeld(c)).toBe(2);
    expect(hub.stats()).toEqual({ clients: 1, subscriptions: 2, symbols: 1, heldSymbols: 1, keys: 0 });
  });

  it('unsubscribe with a mode removes that mode only, and the tick hierarchy follows', () => {
    const { hub, client } = setup();
    const c = client(1, 3);
    expect(hub.unsubscribe(c.handle, 'NSE', 'TCS', 3)).toEqual([3]);
    expect(hub.unsubscribe(c.handle, 'NSE', 'TCS', 3)).toEqual([]);
    expect(hub.unsubscribe(c.handle, 'NSE', 'TCS', 2)).toEqual([]);
    hub.publish(depth(100));
    expect(c.messages()).toEqual([marketData(1, 1, { ltp: 100 })]);
    expect(hub.stats()).toMatchObject({ subscriptions: 1, heldSymbols: 1 });
  });

  it('unsubscribe without a mode removes every mode held for the symbol', () => {
    const { hub, client } = setup();
    const c = client(1, 2, 3);
    expect(hub.unsubscribe(c.handle, 'NSE', 'TCS')).toEqual([1, 2, 3]);
    expect(hub.unsubscribe(c.handle, 'NSE', 'TCS')).toEqual([]);
    expect(hub.unsubscribe(c.handle, 'NSE', 'NEVER')).toEqual([]);
    hub.publish(depth(100));
    expect(c.frames).toEqual([]);
    expect(hub.stats()).toEqual({ clients: 1, subscriptions: 0, symbols: 1, heldSymbols: 0, keys: 1 });
  });

  it('unsubscribeAll removes and reports everything the client holds', () => {
    const { hub } = setup();
    const c = hub.addClient();
    hub.subscribe(c, 'NSE', 'TCS', 1);
    hub.subscribe(c, 'NSE', 'TCS', 3);
    hub.subscribe(c, 'BSE', 'INFY', 2);
    expect(hub.unsubscribeAll(c)).toEqual([
      { exchange: 'NSE', symbol: 'TCS', modes: [1, 3] },
      { exchange: 'BSE', symbol: 'INFY', modes: [2] },
    ]);
    expect(hub.unsubscribeAll(c)).toEqual([]);
    expect(hub.countHeld(c)).toBe(0);
    expect(hub.stats()).toEqual({ clients: 1, subscriptions: 0, symbols: 0, heldSymbols: 0, keys: 0 });
  });
});

describe('Hub: removing a client', () => {
  it('leaves no subscriptions behind, drops the symbols the feed never carried, and completes frames$', () => {
    const { hub } = setup();
    const a = hub.addClient();
    const b = hub.addClient();
    const ra = record(a);
    hub.subscribe(a, 'NSE', 'TCS', 1);
    hub.subscribe(a, 'NSE', 'TCS', 3);
    hub.subscribe(a, 'NSE', 'JUNK', 2);
    hub.subscribe(a, 'XYZ', 'JUNK', 1);
    hub.subscribe(b, 'NSE', 'TCS', 2);
    hub.publish(depth(100));
    expect(hub.stats()).toEqual({ clients: 2, subscriptions: 5, symbols: 3, heldSymbols: 3, keys: 1 });

    hub.removeClient(a);
    expect(ra.completed).toBe(true);
    expect(hub.stats()).toEqual({ clients: 1, subscriptions: 1, symbols: 1, heldSymbols: 1, keys: 1 });
    hub.removeClient(b);
    // NSE TCS stays: the feed carries it and its last tick is kept for snapshots.
    expect(hub.stats()).toEqual({ clients: 0, subscriptions: 0, symbols: 1, heldSymbols: 0, keys: 1 });
    expect(parse(hub.snapshot('NSE', 'TCS', 3) as Frame)).toEqual(marketData(3, 1, depth(100).data));
    expect(hub.snapshot('NSE', 'JUNK', 2)).toBeUndefined();
  });

  it('ignores a removed client from then on', () => {
    const { hub } = setup();
    const c = hub.addClient();
    const r = record(c);
    hub.subscribe(c, 'NSE', 'TCS', 1);
    hub.removeClient(c);
    hub.removeClient(c);
    expect(hub.subscribe(c, 'NSE', 'TCS', 1)).toBe(false);
    expect(hub.unsubscribe(c, 'NSE', 'TCS')).toEqual([]);
    expect(hub.unsubscribeAll(c)).toEqual([]);
    expect(hub.held(c, 'NSE', 'TCS')).toEqual([]);
    hub.publish(ltp(1));
    expect(r.frames).toEqual([]);
    expect(hub.stats()).toEqual({ clients: 0, subscriptions: 0, symbols: 1, heldSymbols: 0, keys: 1 });
  });

  it('ignores a handle that belongs to another hub', () => {
    const { hub } = setup();
    const stranger = new Hub({ broker: BROKER }).addClient();
    expect(hub.subscribe(stranger, 'NSE', 'TCS', 1)).toBe(false);
    expect(hub.stats()).toEqual({ clients: 0, subscriptions: 0, symbols: 0, heldSymbols: 0, keys: 0 });
  });
});

describe('Hub: onInterest', () => {
  it('is told the lowest mode held whenever it changes: LTP → add Depth → drop LTP → drop Depth, across two clients', () => {
    const onInterest = jest.fn();
    const { hub } = setup({ onInterest });
    const a = hub.addClient();
    const b = hub.addClient();
    hub.subscribe(a, 'NSE', 'TCS', 1);
    expect(onInterest.mock.calls).toEqual([['NSE', 'TCS', 1]]);
    onInterest.mockClear();
    hub.subscribe(b, 'NSE', 'TCS', 3); // the lowest is still LTP
    expect(onInterest.mock.calls).toEqual([]);
    hub.unsubscribe(a, 'NSE', 'TCS', 1);
    expect(onInterest.mock.calls).toEqual([['NSE', 'TCS', 3]]);
    onInterest.mockClear();
    hub.unsubscribe(b, 'NSE', 'TCS', 3);
    expect(onInterest.mock.calls).toEqual([['NSE', 'TCS', 0]]);
  });

  it('follows the lowest mode through one client adding and dropping modes, and per symbol', () => {
    const onInterest = jest.fn();
    const { hub } = setup({ onInterest });
    const a = hub.addClient();
    const b = hub.addClient();
    hub.subscribe(a, 'NSE', 'TCS', 3);
    hub.subscribe(a, 'NSE', 'TCS', 2); // same holder, a lower mode
    hub.subscribe(b, 'NSE', 'TCS', 2); // second holder, same lowest
    hub.subscribe(b, 'BSE', 'INFY', 1);
    hub.subscribe(a, 'NSE', 'TCS', 2); // already held: nothing changes
    expect(onInterest.mock.calls).toEqual([
      ['NSE', 'TCS', 3],
      ['NSE', 'TCS', 2],
      ['BSE', 'INFY', 1],
    ]);
    onInterest.mockClear();

    hub.unsubscribe(a, 'NSE', 'TCS', 2); // b still holds Quote
    hub.unsubscribe(a, 'NSE', 'TCS', 1); // not held: nothing
    expect(onInterest).not.toHaveBeenCalled();
    hub.removeClient(b);
    expect(onInterest.mock.calls).toEqual([
      ['NSE', 'TCS', 3],
      ['BSE', 'INFY', 0],
    ]);
    onInterest.mockClear();

    hub.subscribe(a, 'NSE', 'TCS', 1);
    hub.unsubscribeAll(a);
    expect(onInterest.mock.calls).toEqual([
      ['NSE', 'TCS', 1],
      ['NSE', 'TCS', 0],
    ]);
  });
});

describe('Hub: key lifecycle', () => {
  /** A hub on a clock the test moves, with the given bounds. */
  function lifecycle(options: Partial<HubOptions> = {}) {
    let now = 1_000_000;
    const hub = new Hub({ broker: BROKER, now: () => now, ...options });
    const advance = (ms: number): void => {
      now += ms;
      hub.sweep();
    };
    return { hub, advance };
  }
  const ltpOf = (symbol: string, price = 1) => tick('NSE', symbol, 1, { ltp: price });

  it('forgets a key no client holds once it has been silent for keyIdleMs, not before; a tick restarts the wait', () => {
    const { hub, advance } = lifecycle({ keyIdleMs: 60_000 });
    hub.publish(ltpOf('A'));
    hub.publish(ltpOf('B'));
    advance(59_000);
    hub.publish(ltpOf('B', 2)); // B ticks again at 59 s
    expect(hub.stats().keys).toBe(2);
    advance(1_000); // A silent for 60 s
    expect(hub.stats()).toMatchObject({ keys: 1, symbols: 1 });
    expect(hub.snapshot('NSE', 'A', 1)).toBeUndefined();
    expect(hub.evictions()).toEqual({ idle: 1, cap: 0 });
    advance(58_000);
    expect(hub.stats().keys).toBe(1);
    advance(1_000); // B silent for 60 s since its last tick
    expect(hub.stats()).toMatchObject({ keys: 0, symbols: 0 });
    expect(hub.evictions()).toEqual({ idle: 2, cap: 0 });
  });

  it('counts every mode a forgotten symbol ticked on as a key', () => {
    const { hub, advance } = lifecycle({ keyIdleMs: 10_000 });
    hub.publish(ltp(1));
    hub.publish(depth(2));
    expect(hub.stats()).toMatchObject({ keys: 2, symbols: 1 });
    advance(10_000);
    expect(hub.stats()).toMatchObject({ keys: 0, symbols: 0 });
    expect(hub.evictions()).toEqual({ idle: 2, cap: 0 });
  });

  it('past maxKeys forgets the least recently ticked unheld symbols first', () => {
    const { hub } = lifecycle({ maxKeys: 3 });
    hub.publish(ltpOf('A'));
    hub.publish(ltpOf('B'));
    hub.publish(ltpOf('C'));
    hub.publish(ltpOf('A', 2)); // order of last ticks: B, C, A
    hub.publish(ltpOf('D'));
    expect(['A', 'B', 'C', 'D'].map((s) => hub.snapshot('NSE', s, 1) !== undefined)).toEqual([true, false, true, true]);
    hub.publish(ltpOf('E'));
    expect(['A', 'C', 'D', 'E'].map((s) => hub.snapshot('NSE', s, 1) !== undefined)).toEqual([true, false, true, true]);
    expect(hub.stats()).toMatchObject({ keys: 3, symbols: 3 });
    expect(hub.evictions()).toEqual({ idle: 0, cap: 2 });
  });

  it('makes room for a new mode of the least recently ticked symbol by evicting the next one, not stopping at it', () => {
    const { hub } = lifecycle({ maxKeys: 4 });
    hub.publish(ltpOf('E'));
    hub.publish(ltpOf('A'));
    hub.publish(ltpOf('H'));
    hub.publish(tick('NSE', 'A', 2, { ltp: 2 }));
    hub.publish(tick('NSE', 'E', 2, { ltp: 3 })); // E was least recent, then H, then A
    expect(hub.stats()).toMatchObject({ keys: 4, symbols: 2 });
    expect(hub.evictions()).toEqual({ idle: 0, cap: 1 });
    expect(['E', 'A', 'H'].map((s) => hub.snapshot('NSE', s, 1) !== undefined)).toEqual([true, true, false]);
  });

  it('never forgets a held symbol or its snapshot, whatever the pressure, and forgets it like any other once let go of', () => {
    const { hub, advance } = lifecycle({ maxKeys: 10, keyIdleMs: 60_000 });
    const c = hub.addClient();
    const r = record(c);
    hub.subscribe(c, 'NSE', 'HELD', 1);
    hub.publish(ltpOf('HELD', 42));
    for (let i = 0; i < 1000; i++) hub.publish(ltpOf(`X${i}`));
    advance(10 * 60_000);
    for (let i = 1000; i < 2000; i++) hub.publish(ltpOf(`X${i}`));
    expect(hub.stats()).toMatchObject({ keys: 10, heldSymbols: 1 });
    expect(parse(hub.snapshot('NSE', 'HELD', 1) as Frame)).toEqual(marketData(1, 1, { ltp: 42 }, 'HELD'));
    hub.publish(ltpOf('HELD', 43));
    expect(r.messages()).toEqual([marketData(1, 1, { ltp: 42 }, 'HELD'), marketData(1, 2, { ltp: 43 }, 'HELD')]);

    // Let go of: the newest in eviction order (after the nine others), then idle from now on.
    hub.unsubscribe(c, 'NSE', 'HELD', 1);
    hub.publish(ltpOf('Y1'));
    expect(parse(hub.snapshot('NSE', 'HELD', 1) as Frame)).toEqual(marketData(1, 2, { ltp: 43 }, 'HELD'));
    advance(60_000);
    expect(hub.snapshot('NSE', 'HELD', 1)).toBeUndefined();
    expect(hub.stats().keys).toBe(0);
  });

  it('keeps a held symbol that never ticked out of the key count, and indexes it once it ticks', () => {
    const { hub } = lifecycle({ maxKeys: 2 });
    const c = hub.addClient();
    hub.subscribe(c, 'NSE', 'H', 2);
    expect(hub.stats()).toMatchObject({ keys: 0, symbols: 1 });
    hub.publish(tick('NSE', 'H', 3, { ltp: 1 }));
    hub.publish(ltpOf('A'));
    hub.publish(ltpOf('B')); // past the cap: A goes, H is held
    expect(hub.stats()).toMatchObject({ keys: 2, symbols: 2 });
    expect(hub.held(c, 'NSE', 'H')).toEqual([2]);
    expect(hub.snapshot('NSE', 'A', 1)).toBeUndefined();
    expect(parse(hub.snapshot('NSE', 'H', 2) as Frame)).toEqual(marketData(2, 1, { ltp: 1 }, 'H'));
  });

  it('reads no clock per tick: only sweep does', () => {
    const now = jest.fn(() => 5_000);
    const hub = new Hub({ broker: BROKER, now });
    now.mockClear();
    for (let i = 0; i < 100; i++) hub.publish(ltpOf(`S${i % 7}`, i));
    expect(now).not.toHaveBeenCalled();
    hub.sweep();
    expect(now).toHaveBeenCalledTimes(1);
  });
});
