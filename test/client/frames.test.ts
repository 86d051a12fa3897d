import { answerTypeOf, isErrorEnvelope, isMarketData, keyId, parseServerFrame, subscribeReplyEntries } from '../../src/client/frames';

describe('parseServerFrame', () => {
  it('parses a JSON object from text or bytes', () => {
    expect(parseServerFrame('{"type":"pong"}')).toStrictEqual({ type: 'pong' });
    expect(parseServerFrame(new TextEncoder().encode('{"type":"pong"}'))).toStrictEqual({ type: 'pong' });
  });

  it.each([['not json'], ['[1,2]'], ['null'], ['42'], [new Uint8Array([0xff, 0xfe])], [undefined], [{ type: 'pong' }]])(
    'returns null for %p',
    (data) => {
      expect(parseServerFrame(data)).toBeNull();
    },
  );
});

describe('frame predicates', () => {
  const tick = { type: 'market_data', symbol: 'X', exchange: 'NSE', mode: 2, data: { ltp: 1 }, broker: 'b' };

  it('accepts a market_data frame only with a mode of 1, 2 or 3 and an object data', () => {
    expect(isMarketData(tick)).toBe(true);
    expect(isMarketData({ ...tick, mode: 'Quote' })).toBe(false);
    expect(isMarketData({ ...tick, mode: 4 })).toBe(false);
    expect(isMarketData({ ...tick, data: [1] })).toBe(false);
    expect(isMarketData({ ...tick, symbol: 1 })).toBe(false);
  });

  it('recognises an error envelope by status error and no type', () => {
    expect(isErrorEnvelope({ status: 'error', code: 'INVALID_MODE' })).toBe(true);
    expect(isErrorEnvelope({ type: 'subscribe', status: 'error' })).toBe(false);
  });

  it('knows the answer type of each action', () => {
    expect(
      ['authenticate', 'ping', 'unsubscribe_all', 'get_broker_info', 'get_supported_brokers', 'subscribe'].map(answerTypeOf),
    ).toStrictEqual(['auth', 'pong', 'unsubscribe', 'broker_info', 'supported_brokers', 'subscribe']);
  });

  it('keeps apart keys whose parts would run together', () => {
    expect(keyId('NSE', 'A_B', 1)).not.toBe(keyId('NSE_A', 'B', 1));
    expect(keyId('NSE', 'X', 1)).not.toBe(keyId('NSE', 'X', 2));
  });

  it('reads the well-formed entries of a subscribe reply', () => {
    const entries = subscribeReplyEntries({
      type: 'subscribe',
      subscriptions: [{ symbol: 'X', exchange: 'NSE', status: 'success' }, null, { symbol: 'Y' }, 'junk'],
    });
    expect(entries).toStrictEqual([{ symbol: 'X', exchange: 'NSE', status: 'success' }]);
    expect(subscribeReplyEntries({ type: 'subscribe' })).toStrictEqual([]);
  });
});
