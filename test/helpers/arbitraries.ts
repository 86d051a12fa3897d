/**
 * fast-check arbitraries for hostile client frames: every field of every action with the right
 * type, the wrong type, odd unicode, control characters, `__proto__`/`constructor` keys, deep
 * nesting, huge strings and arrays, thousands of symbols in one request, and frames that are not
 * JSON or not objects at all. Each arbitrary yields the frame's bytes and whether it goes binary.
 */
import fc from 'fast-check';

/** One inbound frame as sent on the wire. */
export interface WireFrame {
  readonly bytes: Buffer;
  readonly binary: boolean;
}

/** Names that collide with object internals, odd unicode, quotes and control characters. */
export const ODD_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'ÄÖÜß',
  '😀📈',
  'a"b\\c',
  '\u0000\u0007\u001f',
  '\u202e\u200b',
  'e\u0301',
  'x'.repeat(128),
  'y'.repeat(129),
];
/** Symbols and exchanges the fuzz draws from: real ones (some fed, so snapshots happen) and odd ones. */
export const SYMBOLS = ['RELIANCE', 'TCS', 'INFY', 'NIFTY', 'SBIN', ...ODD_NAMES];
export const EXCHANGES = ['NSE', 'NSE_INDEX', 'BSE', 'MCX', '__proto__', 'constructor', ''];

const VALID_ACTIONS = [
  'authenticate',
  'auth',
  'subscribe',
  'unsubscribe',
  'unsubscribe_all',
  'ping',
  'get_broker_info',
  'get_supported_brokers',
  'subscribe_orders',
  'unsubscribe_orders',
];
const ODD_ACTIONS = ['Subscribe', ' ping', 'AUTH', 'subscribe\u0000', '__proto__', 'constructor', 'toString', '', 'market_data'];

/** JSON text of a string that may hold lone surrogates and control characters. */
const oddString = fc
  .string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 24 })
  .map((s) => JSON.stringify(s));

/** JSON text nested `n` deep, of arrays or of objects. */
export function deepJson(n: number, objects: boolean): string {
  return objects ? '{"a":'.repeat(n) + '1' + '}'.repeat(n) : '['.repeat(n) + ']'.repeat(n);
}

/** JSON text of any small value a field might wrongly (or rightly) hold. */
const anyValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
  { weight: 3, arbitrary: oddString },
  {
    weight: 2,
    arbitrary: fc.constantFrom('null', 'true', 'false', '0', '-0', '2.5', '1e308', '-1', '[]', '{}', '""', '"1"', '9007199254740993'),
  },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 20, max: 40 }), fc.boolean()).map(([n, o]) => deepJson(n, o)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 100, max: 3000 }), fc.boolean()).map(([n, o]) => deepJson(n, o)) },
);

/** A value hundreds of kilobytes long: a huge string, or arrays nested tens of thousands deep. */
const hugeValue: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 100_000, max: 400_000 }).map((n) => JSON.stringify('z'.repeat(n))),
  fc.tuple(fc.integer({ min: 10_000, max: 100_000 }), fc.boolean()).map(([n, o]) => deepJson(n, o)),
);

const modeValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('1', '2', '3', '"LTP"', '"quote"', '" Depth "', '"DEPTH"') },
  { weight: 3, arbitrary: fc.constantFrom('0', '4', '2.5', '"1"', 'true', 'null', '"FOO"', '[]', '{}', '-1', '"ltp "') },
  { weight: 1, arbitrary: anyValue },
);

const nameValue = (pool: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...pool).map((s) => JSON.stringify(s)) }, { weight: 2, arbitrary: anyValue });

/** `{...}` from optional [key, value-JSON] pairs; keys are written as given, duplicates allowed. */
function objectText(pairs: readonly (readonly [string, string] | null)[]): string {
  return (
    '{' +
    pairs
      .filter((p): p is readonly [string, string] => p !== null)
      .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
      .join(',') +
    '}'
  );
}

/** A `[key, value]` pair present in `percent`% of draws. */
const field = (key: string, value: fc.Arbitrary<string>, percent: number): fc.Arbitrary<readonly [string, string] | null> =>
  fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(null) }, { weight: percent, arbitrary: value.map((v) => [key, v] as const) });

/** One subscribe/unsubscribe entry: usually an object with names and maybe a mode, sometimes not. */
const item: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .tuple(
        field('symbol', nameValue(SYMBOLS), 90),
        field('exchange', nameValue(EXCHANGES), 90),
        field('mode', modeValue, 40),
        field('__proto__', anyValue, 5),
        field('constructor', anyValue, 5),
      )
      .map((pairs) => objectText([pairs[3], pairs[0], pairs[1], pairs[2], pairs[4]])),
  },
  { weight: 1, arbitrary: anyValue },
);

/** Thousands of entries in one request, built without fast-check per entry (cheap to generate). */
const manyItems = fc.tuple(fc.integer({ min: 1000, max: 2600 }), fc.nat(1000)).map(([n, salt]) => {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const symbol = i % 97 === 0 ? (SYMBOLS[i % SYMBOLS.length] as string) : `S${(i + salt) % 2000}`;
    parts.push(`{"symbol":${JSON.stringify(symbol)},"exchange":"${i % 3 === 0 ? 'NSE' : 'BSE'}"}`);
  }
  return '[' + parts.join(',') + ']';
});

const symbolsValue = fc.oneof(
  { weight: 40, arbitrary: fc.array(item, { maxLength: 12 }).map((xs) => '[' + xs.join(',') + ']') },
  { weight: 8, arbitrary: anyValue },
  { weight: 1, arbitrary: manyItems },
  { weight: 1, arbitrary: fc.integer({ min: 9_998, max: 10_002 }).map((n) => '[' + Array(n).fill('0').join(',') + ']') },
);

const keyValue = (keys: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...keys).map((k) => JSON.stringify(k)) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom('wrong-key', '', ' ', ...keys.map((k) => k + ' '), ...keys.map((k) => k.toUpperCase()))
        .map((k) => JSON.stringify(k)),
    },
    { weight: 1, arbitrary: anyValue },
  );

/** A request object: an action (or `type`) and any of the fields any action reads, right or wrong. */
function request(keys: readonly string[]): fc.Arbitrary<string> {
  const action = fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...VALID_ACTIONS).map((a) => JSON.stringify(a)) },
    { weight: 2, arbitrary: fc.constantFrom(...ODD_ACTIONS).map((a) => JSON.stringify(a)) },
    { weight: 1, arbitrary: anyValue },
  );
  return fc
    .tuple(
      fc.constantFrom('action', 'action', 'action', 'type'),
      action,
      field('api_key', keyValue(keys), 40),
      field('apikey', keyValue(keys), 10),
      field('symbols', symbolsValue, 50),
      field('symbol', nameValue(SYMBOLS), 30),
      field('exchange', nameValue(EXCHANGES), 30),
      field('mode', modeValue, 50),
      field('depth', fc.oneof(fc.constantFrom('5', '20', '50', '0', '10001', '2.5', '"5"'), anyValue), 20),
      field('request_id', anyValue, 30),
      field('timestamp', anyValue, 20),
      field('_pingId', anyValue, 15),
      field('__proto__', fc.oneof(fc.constant('{"action":"subscribe","isAdmin":true}'), anyValue), 8),
      field('constructor', fc.oneof(fc.constant('{"prototype":{"polluted":true}}'), anyValue), 5),
    )
    .chain(([actionKey, actionValue, ...rest]) =>
      fc
        .shuffledSubarray(rest, { minLength: rest.length, maxLength: rest.length })
        .map((shuffled) => objectText([[actionKey, actionValue], ...shuffled])),
    );
}

/** A request with one field hundreds of kilobytes long (a megabyte at most: the frame limit). */
const hugeRequest: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(...VALID_ACTIONS),
    fc.constantFrom('request_id', 'symbol', 'api_key', 'timestamp', '_pingId', 'action', 'mode', 'pad'),
    hugeValue,
    fc.constantFrom('[0]', '[' + Array(150_000).fill('0').join(',') + ']'),
  )
  .map(
    ([action, key, value, symbols]) =>
      `{"action":${JSON.stringify(action)},"exchange":"NSE","symbols":${symbols},${JSON.stringify(key)}:${value}}`,
  );

const validMode = fc.constantFrom('1', '2', '3', '"LTP"', '"quote"', '" Depth "');
const poolItem = fc
  .tuple(fc.constantFrom(...SYMBOLS), fc.constantFrom(...EXCHANGES), fc.option(validMode, { nil: undefined }))
  .map(
    ([symbol, exchange, mode]) =>
      `{"symbol":${JSON.stringify(symbol)},"exchange":${JSON.stringify(exchange)}${mode ? `,"mode":${mode}` : ''}}`,
  );

/** Requests a real client sends, so the connections hold (and drop) plenty while the rest fuzzes. */
function wellFormed(keys: readonly string[]): fc.Arbitrary<string> {
  const rid = fc.option(
    fc.string({ maxLength: 8 }).map((r) => `,"request_id":${JSON.stringify(r)}`),
    { nil: '' },
  );
  return fc.oneof(
    {
      weight: 24,
      arbitrary: fc
        .tuple(fc.constantFrom('subscribe', 'unsubscribe'), fc.array(poolItem, { minLength: 1, maxLength: 8 }), validMode, rid)
        .map(([a, xs, m, r]) => `{"action":"${a}","symbols":[${xs.join(',')}],"mode":${m}${r}}`),
    },
    {
      weight: 12,
      arbitrary: fc
        .tuple(fc.constantFrom('subscribe', 'unsubscribe'), poolItem, rid)
        .map(([a, x, r]) => `{"action":"${a}",${x.slice(1, -1)}${r}}`),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(manyItems, fc.option(validMode, { nil: undefined }))
        .map(([xs, m]) => `{"action":"subscribe","symbols":${xs}${m ? `,"mode":${m}` : ''}}`),
    },
    { weight: 4, arbitrary: rid.map((r) => `{"action":"unsubscribe_all"${r}}`) },
    { weight: 8, arbitrary: fc.constantFrom(...keys).map((k) => `{"action":"authenticate","api_key":${JSON.stringify(k)}}`) },
  );
}

const textFrame = (text: fc.Arbitrary<string>): fc.Arbitrary<WireFrame> =>
  text.map((t) => ({ bytes: Buffer.from(t, 'utf8'), binary: false }));

/**
 * Any frame a hostile or buggy client might send, with the given API keys sometimes right. Frames
 * stay within `maxBytes` (larger ones are the 1009 case, tested at the boundary elsewhere).
 */
export function clientFrame(keys: readonly string[], maxBytes: number): fc.Arbitrary<WireFrame> {
  return fc
    .oneof(
      { weight: 100, arbitrary: textFrame(request(keys)) },
      { weight: 60, arbitrary: textFrame(wellFormed(keys)) },
      { weight: 2, arbitrary: textFrame(fc.string({ unit: 'binary', maxLength: 60 })) },
      {
        weight: 2,
        arbitrary: textFrame(
          fc.constantFrom(
            '',
            ' ',
            'null',
            '[]',
            '"str"',
            '123',
            'true',
            '{',
            '{"action":"ping"',
            '\ufeff{"action":"ping"}',
            ' {"action":"ping"} ',
            'NaN',
            '{"action":"ping",}',
          ),
        ),
      },
      { weight: 2, arbitrary: textFrame(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v))) },
      { weight: 1, arbitrary: textFrame(fc.tuple(fc.integer({ min: 33, max: 5000 }), fc.boolean()).map(([n, o]) => deepJson(n, o))) },
      { weight: 1, arbitrary: textFrame(fc.integer({ min: 1, max: 64 }).map((n) => `{"action":"ping","pad":${deepJson(n, false)}}`)) },
      { weight: 1, arbitrary: textFrame(hugeRequest) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => ({ bytes: Buffer.from(a), binary: true })) },
      { weight: 1, arbitrary: textFrame(fc.constant('{"action":"ping"}')).map((f) => ({ ...f, binary: true })) },
    )
    .filter((f) => f.bytes.length <= maxBytes);
}
