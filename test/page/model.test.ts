import {
  applyTick,
  changePercent,
  DEFAULT_WATCHLIST,
  emptyQuote,
  freshness,
  STALE_MS,
  formatAge,
  formatPercent,
  formatPrice,
  formatQuantity,
  fractionDigits,
  formatVolume,
  ladder,
  parseInstrument,
  parseWatchlist,
  RateMeter,
} from '../../src/page/model';

describe('parseInstrument', () => {
  it('splits EXCHANGE:SYMBOL at the first colon and keeps the case', () => {
    expect(parseInstrument(' NSE_INDEX:NIFTY ')).toStrictEqual({ exchange: 'NSE_INDEX', symbol: 'NIFTY', id: 'NSE_INDEX:NIFTY' });
    expect(parseInstrument('MCX:GOLD:M')).toStrictEqual({ exchange: 'MCX', symbol: 'GOLD:M', id: 'MCX:GOLD:M' });
    expect(parseInstrument('nse:reliance')).toStrictEqual({ exchange: 'nse', symbol: 'reliance', id: 'nse:reliance' });
  });

  it.each([[''], ['RELIANCE'], [':RELIANCE'], ['NSE:'], ['NSE: '], [' :X']])('refuses %p', (text) => {
    expect(parseInstrument(text)).toBeUndefined();
  });
});

describe('parseWatchlist', () => {
  it('reads a comma-separated list, dropping duplicates and malformed entries', () => {
    expect(parseWatchlist('NSE:TCS,bad,CRYPTO:BTC_INR,NSE:TCS,').map((i) => i.id)).toStrictEqual(['NSE:TCS', 'CRYPTO:BTC_INR']);
  });

  it('falls back to the default watchlist when the list is missing or names nothing usable', () => {
    expect(parseWatchlist(null).map((i) => i.id)).toStrictEqual([...DEFAULT_WATCHLIST]);
    expect(parseWatchlist('nonsense,,').map((i) => i.id)).toStrictEqual([...DEFAULT_WATCHLIST]);
  });
});

describe('applyTick and changePercent', () => {
  it('keeps the price and volume of the newer tick when an older one arrives later (each mode is throttled on its own)', () => {
    const quote = emptyQuote();
    applyTick(quote, { ltp: 101, volume: 20 }, 5000, 1050);
    applyTick(quote, { ltp: 100, volume: 10, close: 90 }, 5001, 1000);
    expect(quote).toMatchObject({ ltp: 101, volume: 20, close: 90, priceAt: 1050, updatedAt: 5001, ticks: 2 });
    applyTick(quote, { ltp: 102 }, 5002, 1050); // the same moment: the later arrival wins, as in a candle
    expect(quote.ltp).toBe(102);
  });

  it('keeps close and volume from Quote ticks while LTP ticks move the price', () => {
    const quote = emptyQuote();
    applyTick(quote, { ltp: 100, close: 80, volume: 10 }, 1000);
    applyTick(quote, { ltp: 120 }, 2000);
    expect(quote).toStrictEqual({ ltp: 120, close: 80, volume: 10, updatedAt: 2000, ticks: 2, addedAt: 0, priceAt: 2000 });
    expect(changePercent(quote)).toBe(50);
  });

  it('ignores fields that are not finite numbers', () => {
    const quote = emptyQuote();
    applyTick(quote, { ltp: 100, close: 80 }, 1);
    applyTick(quote, { ltp: Number.NaN, close: '81' as unknown as number }, 2);
    expect(quote.ltp).toBe(100);
    expect(quote.close).toBe(80);
  });

  it('has no change until both the price and the close are known, or when the close is 0', () => {
    expect(changePercent({ ltp: 10 })).toBeUndefined();
    expect(changePercent({ close: 10 })).toBeUndefined();
    expect(changePercent({ ltp: 10, close: 0 })).toBeUndefined();
    expect(changePercent({ ltp: 99, close: 100 })).toBeCloseTo(-1, 10);
  });
});

describe('ladder', () => {
  const depth = {
    buy: [
      { price: 100, quantity: 50, orders: 3 },
      { price: 99.5, quantity: 200, orders: 7 },
    ],
    sell: [
      { price: 100.5, quantity: 100 },
      { price: 101, quantity: 25 },
    ],
  };

  it('keeps the delivered order and scales every bar by the largest quantity on either side', () => {
    const book = ladder(depth);
    expect(book.bids).toStrictEqual([
      { price: 100, quantity: 50, orders: 3, share: 0.25 },
      { price: 99.5, quantity: 200, orders: 7, share: 1 },
    ]);
    expect(book.asks).toStrictEqual([
      { price: 100.5, quantity: 100, share: 0.5 },
      { price: 101, quantity: 25, share: 0.125 },
    ]);
    expect(book.spread).toBe(0.5);
    expect(book.bidQuantity).toBe(250);
    expect(book.askQuantity).toBe(125);
    expect(book.quantityDecimals).toBe(0);
  });

  it('writes every quantity of a coin book with the decimals of its most precise one', () => {
    const book = ladder({
      buy: [
        { price: 1, quantity: 0.24 },
        { price: 0.9, quantity: 1 },
      ],
      sell: [{ price: 1.1, quantity: 0.125 }],
    });
    expect(book.quantityDecimals).toBe(3);
    expect(book.bids.map((l) => formatQuantity(l.quantity, book.quantityDecimals))).toStrictEqual(['0.240', '1.000']);
  });

  it('shows at most `levels` per side and skips malformed levels', () => {
    const buy = [{ price: 3, quantity: 1 }, { price: 'x', quantity: 1 }, null, { price: 2, quantity: 4 }, { price: 1, quantity: 2 }];
    const book = ladder({ buy: buy as never, sell: [] }, 2);
    expect(book.bids.map((l) => l.price)).toStrictEqual([3, 2]);
    expect(book.spread).toBeUndefined();
  });

  it('is empty for a tick without a book', () => {
    expect(ladder(undefined)).toStrictEqual({
      bids: [],
      asks: [],
      bidQuantity: 0,
      askQuantity: 0,
      quantityDecimals: 0,
      hasOrders: false,
      at: 0,
    });
  });

  it('carries the last price and arrival time of the tick the book came with, and whether any level has an order count', () => {
    const book = ladder(depth, 20, 100.25, 1234);
    expect(book).toMatchObject({ ltp: 100.25, at: 1234, hasOrders: true });
    const crypto = ladder({ buy: [{ price: 1, quantity: 2 }], sell: [{ price: 1.1, quantity: 3 }] }, 20, undefined, 5);
    expect(crypto.hasOrders).toBe(false);
    expect(crypto).not.toHaveProperty('ltp');
  });
});

describe('freshness', () => {
  it('is waiting before any tick, refused when the server said no, offline while disconnected, stale past the limit', () => {
    expect(freshness(0, 50_000, true)).toBe('waiting');
    expect(freshness(0, 50_000, true, STALE_MS, true)).toBe('refused');
    expect(freshness(45_000, 50_000, true)).toBe('live');
    expect(freshness(40_000, 50_000, true)).toBe('live'); // exactly at the limit
    expect(freshness(39_999, 50_000, true)).toBe('stale');
    expect(freshness(49_999, 50_000, false)).toBe('offline');
    expect(freshness(49_000, 50_000, true, 500)).toBe('stale');
  });
});

describe('RateMeter', () => {
  it('counts the events of the last second, in 100 ms buckets', () => {
    const meter = new RateMeter();
    meter.add(10_000, 5); // bucket 100
    meter.add(10_450, 3); // bucket 104
    meter.add(10_950); // bucket 109
    expect(meter.perSecond(10_999)).toBe(9);
    expect(meter.perSecond(11_000)).toBe(4); // bucket 100 left the window
    expect(meter.perSecond(11_500)).toBe(1);
    expect(meter.perSecond(12_000)).toBe(0);
  });

  it('reuses a bucket after the window has passed it', () => {
    const meter = new RateMeter();
    meter.add(10_000, 5);
    meter.add(11_000, 2); // the same slot, a second later
    expect(meter.perSecond(11_000)).toBe(2);
  });
});

describe('fractionDigits', () => {
  it.each([
    [12, 0],
    [0.5, 1],
    [0.125, 3],
    [1418.35, 2],
    [0.00001, 4],
    [1e21, 0],
  ])('%p needs %p', (value, digits) => {
    expect(fractionDigits(value)).toBe(digits);
  });
});

describe('formatting', () => {
  it('writes prices with Indian grouping and two decimals, more below 1', () => {
    expect(formatPrice(8_460_565.48)).toBe('84,60,565.48');
    expect(formatPrice(1418.4)).toBe('1,418.40');
    expect(formatPrice(0.1234)).toBe('0.1234');
    expect(formatPrice(0.05, 1418.4)).toBe('0.05');
    expect(formatPrice(undefined)).toBe('—');
  });

  it('writes changes with their sign', () => {
    expect(formatPercent(0.421)).toBe('+0.42%');
    expect(formatPercent(-1.05)).toBe('-1.05%');
    expect(formatPercent(0)).toBe('0.00%');
    expect(formatPercent(undefined)).toBe('—');
  });

  it('writes volumes exactly below 1 lakh, compactly above', () => {
    expect(formatVolume(0.0486)).toBe('0.0486');
    expect(formatVolume(99_999)).toBe('99,999');
    expect(formatVolume(328_000)).toBe('3.28L');
    expect(formatVolume(31_000_000)).toBe('3.1Cr');
  });

  it('writes ages in tenths below 10 s, then whole seconds, minutes, hours', () => {
    expect(formatAge(undefined)).toBe('—');
    expect(formatAge(-5)).toBe('0.0s');
    expect(formatAge(430)).toBe('0.4s');
    expect(formatAge(12_900)).toBe('12s');
    expect(formatAge(185_000)).toBe('3m');
    expect(formatAge(7_300_000)).toBe('2h');
  });
});
