import fc from 'fast-check';
import { DEFAULT_TWO_SEGMENT_EXCHANGES, formatTopic, type Mode, parseTopic, topicParser } from '../../streams';

/** Fixed seeds: a failure found once is found again on every run. */
const RUNS = { seed: 7_531_902, numRuns: 500 } as const;

const LABELS = ['LTP', 'QUOTE', 'DEPTH'] as const;
const mode = fc.constantFrom<Mode>(1, 2, 3);
const twoSegment = new Set(DEFAULT_TWO_SEGMENT_EXCHANGES);

/** One `_`-free segment, as exchanges like NSE, MCX, CRYPTO are. */
const exchange = fc.string({ unit: fc.constantFrom(...'ABCDEMNSXZ019:-'), minLength: 1, maxLength: 6 });
/** Symbols may hold `_` and `:` anywhere, leading, trailing and doubled included. */
const symbol = fc.string({ unit: fc.constantFrom(...'ABCINTX09_:&-'), minLength: 1, maxLength: 12 });

/**
 * An exchange of one segment whose symbol begins `INDEX_` spells `NSE_INDEX_…`, which the grammar
 * reads as the two-segment exchange: that topic has one meaning, so it cannot round-trip.
 */
const unambiguous = (ex: string, sym: string): boolean => !(sym.includes('_') && twoSegment.has(`${ex}_${sym.slice(0, sym.indexOf('_'))}`));

function expectRoundTrip(exchange: string, symbol: string, mode: Mode): void {
  expect(parseTopic(formatTopic({ exchange, symbol, mode }))).toStrictEqual({ exchange, symbol, mode });
}

describe('parseTopic (properties)', () => {
  it('reads back what formatTopic wrote, for one-segment exchanges and symbols holding _ and :', () => {
    fc.assert(
      fc.property(exchange, symbol, mode, (ex, sym, m) => {
        fc.pre(unambiguous(ex, sym));
        expectRoundTrip(ex, sym, m);
      }),
      RUNS,
    );
  });

  it('reads back what formatTopic wrote, for the two-segment exchanges', () => {
    fc.assert(
      fc.property(fc.constantFrom(...DEFAULT_TWO_SEGMENT_EXCHANGES), symbol, mode, (ex, sym, m) => {
        expectRoundTrip(ex, sym, m);
      }),
      RUNS,
    );
  });

  it('reads the mode in any letter case', () => {
    fc.assert(
      fc.property(exchange, symbol, mode, fc.infiniteStream(fc.boolean()), (ex, sym, m, upper) => {
        fc.pre(unambiguous(ex, sym));
        const label = [...(LABELS[m - 1] as string)].map((c) => (upper.next().value ? c : c.toLowerCase())).join('');
        expect(parseTopic(`${ex}_${sym}_${label}`)).toStrictEqual({ exchange: ex, symbol: sym, mode: m });
      }),
      RUNS,
    );
  });

  it('returns null whenever the last segment is not a mode', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ABDELOPQRSTUdeloprst_'), maxLength: 16 }), (topic) => {
        const last = topic.slice(topic.lastIndexOf('_') + 1).toUpperCase();
        fc.pre(!(LABELS as readonly string[]).includes(last));
        expect(parseTopic(topic)).toBeNull();
      }),
      RUNS,
    );
  });

  it('parses any topic to a key that formats back to the topic with its mode upper-cased', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'NSEIDXltpLTPQUOTEquotedepthDEPTH_:'), maxLength: 24 }), (topic) => {
        const key = parseTopic(topic);
        if (key === null) return;
        const cut = topic.lastIndexOf('_');
        expect(formatTopic(key)).toBe(topic.slice(0, cut + 1) + topic.slice(cut + 1).toUpperCase());
        expect(key.exchange).not.toBe('');
        expect(key.symbol).not.toBe('');
      }),
      RUNS,
    );
  });
});

describe('parseTopic (examples from feed.md)', () => {
  it.each([
    ['NSE_INDEX_NIFTY_LTP', 'NSE_INDEX', 'NIFTY', 1],
    ['BSE_INDEX_SENSEX_QUOTE', 'BSE_INDEX', 'SENSEX', 2],
    ['MCX_INDEX_MCXCOMDEX_depth', 'MCX_INDEX', 'MCXCOMDEX', 3],
    ['GLOBAL_INDEX_DJI_Ltp', 'GLOBAL_INDEX', 'DJI', 1],
    ['CRYPTO_SOL_INR_LTP', 'CRYPTO', 'SOL_INR', 1],
    ['NSE_TCS:50_DEPTH', 'NSE', 'TCS:50', 3],
    ['NSE_RELIANCE_QUOTE', 'NSE', 'RELIANCE', 2],
    ['NFO_NIFTY_24_JUL_25000_CE_QUOTE', 'NFO', 'NIFTY_24_JUL_25000_CE', 2],
    ['NSE_INDEX_LTP', 'NSE', 'INDEX', 1],
  ])('reads %s as exchange %s, symbol %s, mode %i', (topic, exchange, symbol, mode) => {
    expect(parseTopic(topic)).toStrictEqual({ exchange, symbol, mode });
  });

  it.each([
    ['X_Y_orders', 'an order topic'],
    ['ZERODHA_U1_orders', 'an order topic'],
    ['ANALYZE_U1_orders', 'an analyzer order topic'],
    ['CACHE_INVALIDATE_ALL', 'a cache topic'],
    ['CACHE_INVALIDATE_U1', 'a cache topic'],
    ['BROKER_U1_positions', 'a positions topic'],
    ['BROKER_U1_margins', 'a margins topic'],
    ['NSE_LTP', 'two segments'],
    ['LTP', 'one segment'],
    ['', 'the empty string'],
    ['NSE_TCS_FOO', 'an unknown mode'],
    ['NSE_TCS_LTPX', 'an unknown mode'],
    ['NSE_TCS_', 'an empty mode'],
    ['_TCS_LTP', 'an empty exchange'],
    ['NSE__LTP', 'an empty symbol'],
    ['NSE_INDEX__LTP', 'an empty symbol after a two-segment exchange'],
    ['__LTP', 'empty exchange and symbol'],
  ])('returns null for %s (%s)', (topic) => {
    expect(parseTopic(topic)).toBeNull();
  });

  it('returns null for a value that is not a string', () => {
    expect(parseTopic(42 as unknown as string)).toBeNull();
    expect(parseTopic(undefined as unknown as string)).toBeNull();
  });
});

describe('twoSegmentExchanges option', () => {
  const options = { twoSegmentExchanges: ['CDS_FUT'] };

  it('reads the configured exchanges as two segments', () => {
    expect(parseTopic('CDS_FUT_USDINR_QUOTE', options)).toStrictEqual({ exchange: 'CDS_FUT', symbol: 'USDINR', mode: 2 });
  });

  it('replaces the default list rather than adding to it', () => {
    expect(parseTopic('NSE_INDEX_NIFTY_LTP', options)).toStrictEqual({ exchange: 'NSE', symbol: 'INDEX_NIFTY', mode: 1 });
  });

  it('reads the same through topicParser, which builds the set once', () => {
    const parse = topicParser(options);
    expect(parse('CDS_FUT_USDINR_QUOTE')).toStrictEqual({ exchange: 'CDS_FUT', symbol: 'USDINR', mode: 2 });
    expect(parse('NSE_INDEX_NIFTY_LTP')).toStrictEqual({ exchange: 'NSE', symbol: 'INDEX_NIFTY', mode: 1 });
    expect(topicParser()('NSE_INDEX_NIFTY_LTP')).toStrictEqual({ exchange: 'NSE_INDEX', symbol: 'NIFTY', mode: 1 });
  });

  it('accepts any iterable, e.g. a Set', () => {
    expect(parseTopic('CDS_FUT_X_DEPTH', { twoSegmentExchanges: new Set(['CDS_FUT']) })).toStrictEqual({
      exchange: 'CDS_FUT',
      symbol: 'X',
      mode: 3,
    });
  });
});

describe('formatTopic', () => {
  it.each([
    [{ exchange: 'NSE', symbol: 'TCS', mode: 1 as Mode }, 'NSE_TCS_LTP'],
    [{ exchange: 'NSE', symbol: 'TCS', mode: 2 as Mode }, 'NSE_TCS_QUOTE'],
    [{ exchange: 'NSE_INDEX', symbol: 'NIFTY', mode: 3 as Mode }, 'NSE_INDEX_NIFTY_DEPTH'],
  ])('writes %p as %s', (key, topic) => {
    expect(formatTopic(key)).toBe(topic);
  });
});
