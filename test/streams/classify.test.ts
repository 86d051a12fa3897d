import { from } from 'rxjs';
import { classifyTopic, marketTicks, PayloadDecoder, parseTopic, type RawTick, TopicCache, topicClassifier } from '../../streams';

describe('classifyTopic: the one place that says what a feed topic is', () => {
  it.each<[string, ReturnType<typeof classifyTopic>]>([
    ['NSE_TCS_LTP', { exchange: 'NSE', symbol: 'TCS', mode: 1 }],
    ['NSE_INDEX_NIFTY_quote', { exchange: 'NSE_INDEX', symbol: 'NIFTY', mode: 2 }],
    ['ZERODHA_U1_orders', 'order'],
    ['CACHE_INVALIDATE_ALL_u1_orders', 'order'],
    ['CACHE_INVALIDATE_FEED_u1_ltp', 'ignored'],
    ['CACHE_INVALIDATE_ALL', 'ignored'],
    ['ZERODHA_U1_positions', 'ignored'],
    ['ZERODHA_U1_margins', 'ignored'],
    ['NSE_TCS_TRADES', 'invalid'],
    ['', 'invalid'],
    ['NSE_TCS', 'invalid'],
  ])('%j is %j', (topic, expected) => {
    expect(classifyTopic(topic)).toStrictEqual(expected);
    expect(topicClassifier()(topic)).toStrictEqual(expected);
  });

  it('agrees with parseTopic on every market-data key, with the configured two-segment exchanges', () => {
    const options = { twoSegmentExchanges: ['CDS_FUT'] };
    for (const topic of ['CDS_FUT_USDINR_QUOTE', 'NSE_INDEX_NIFTY_LTP', 'MCX_GOLD_DEPTH']) {
      expect(classifyTopic(topic, options)).toStrictEqual(parseTopic(topic, options));
    }
  });

  it('is not fooled by a value that is not a string', () => {
    expect(classifyTopic(42 as unknown as string)).toBe('invalid');
  });
});

describe('marketTicks: orders and ignored topics have their own paths', () => {
  it('hands order events to onOrder and ignored topics to onIgnored, never to onInvalid; market data flows on', () => {
    const calls: unknown[] = [];
    const raws: RawTick[] = [
      { topic: 'ZERODHA_U1_orders', payload: '{"order_id":"1"}' },
      { topic: 'CACHE_INVALIDATE_ALL', payload: '{}' },
      { topic: 'NSE_TCS_LTP', payload: '{"ltp":1}' },
      { topic: 'NSE_TCS_TRADES', payload: '{}' },
    ];
    const ticks: string[] = [];
    from(raws)
      .pipe(
        marketTicks({
          throttleMs: 0,
          onOrder: (topic, payload) => calls.push(['order', topic, payload]),
          onIgnored: (raw) => calls.push(['ignored', raw.topic]),
          onInvalid: (reason, raw) => calls.push(['invalid', reason, raw.topic]),
        }),
      )
      .subscribe((t) => ticks.push(t.key));
    expect(calls).toEqual([
      ['order', 'ZERODHA_U1_orders', '{"order_id":"1"}'],
      ['ignored', 'CACHE_INVALIDATE_ALL'],
      ['invalid', 'topic', 'NSE_TCS_TRADES'],
    ]);
    expect(ticks).toEqual(['NSE_TCS_LTP']);
  });
});

describe('TopicCache', () => {
  it('classifies each topic once, and past maxTopics forgets the topic cached longest ago', () => {
    const made: string[] = [];
    const cache = new TopicCache(
      (key, canonical) => {
        made.push(canonical);
        return { ...key, key: canonical };
      },
      { maxTopics: 2 },
    );
    expect(cache.get('NSE_A_LTP')).toStrictEqual({ exchange: 'NSE', symbol: 'A', mode: 1, key: 'NSE_A_LTP' });
    cache.get('NSE_A_LTP');
    expect(cache.get('NSE_B_ltp')).toStrictEqual({ exchange: 'NSE', symbol: 'B', mode: 1, key: 'NSE_B_LTP' });
    expect(cache.get('U1_orders')).toBe('order'); // third topic: NSE_A_LTP goes
    expect(cache.size).toBe(2);
    cache.get('NSE_B_ltp');
    cache.get('NSE_A_LTP'); // classified again
    expect(made).toEqual(['NSE_A_LTP', 'NSE_B_LTP', 'NSE_A_LTP']);
    expect(cache.size).toBe(2);
  });
});

describe('PayloadDecoder', () => {
  it('gives the object and leaves its text, or names what is wrong', () => {
    const d = new PayloadDecoder();
    expect(d.decode(new TextEncoder().encode('{"ltp":1}'))).toStrictEqual({ ltp: 1 });
    expect(d.text).toBe('{"ltp":1}');
    expect(d.decode(new Uint8Array([0x7b, 0xff, 0x7d]))).toBe('encoding');
    expect(d.decode('{"ltp":')).toBe('json');
    expect(d.decode('[1]')).toBe('not_object');
    expect(d.decode('null')).toBe('not_object');
  });
});
