/**
 * Issue 7, bad input from the feed: every kind of malformed ZeroMQ message a broken adapter can
 * publish, through the real proxy. Each is counted under its reason in `stats.feedDropped`, nothing
 * crashes, and the good tick published right after it reaches the client.
 */
import type { FeedDropReason } from '../../src/stats';
import { type Env, startEnv } from '../helpers/proxy';
import { Scope, uniq } from '../helpers/scope';
import { ltpTick } from '../helpers/ticks';
import type { Msg, TestClient } from '../helpers/wsClient';
import { deepJson } from '../helpers/arbitraries';

const suite = new Scope();
afterAll(() => suite.close());

let env: Env;
let client: TestClient;
const SYM = uniq('GOOD');

beforeAll(async () => {
  // No throttle: every message is decoded, so every bad payload is counted exactly once.
  env = await startEnv(suite, { throttleMs: 0 });
  client = await env.login(suite);
  const reply = await client.request({ action: 'subscribe', symbols: [{ symbol: SYM, exchange: 'NSE' }], mode: 1 });
  expect(reply['status']).toBe('success');
});

let good = 0;
/** Publishes a good LTP tick and waits for it: everything published before it has been handled. */
async function goodTickGoesThrough(): Promise<void> {
  good++;
  await env.publish(`NSE_${SYM}_LTP`, ltpTick(good));
  const frame = await client.next((m) => m['type'] === 'market_data' && m['symbol'] === SYM);
  expect(frame['data']).toStrictEqual(ltpTick(good));
}

function dropped(): Record<FeedDropReason, number> {
  return { ...env.proxy.stats.feedDropped };
}

function delta(before: Record<FeedDropReason, number>): Partial<Record<FeedDropReason, number>> {
  const now = dropped();
  const out: Partial<Record<FeedDropReason, number>> = {};
  for (const k of Object.keys(now) as FeedDropReason[]) if (now[k] !== before[k]) out[k] = now[k] - before[k];
  return out;
}

const cases: [name: string, frames: (string | Buffer)[], reason: FeedDropReason][] = [
  ['one frame', ['NSE_X_LTP'], 'frames'],
  ['three frames', ['NSE_X_LTP', '{"ltp":1}', 'extra'], 'frames'],
  ['five frames', ['a', 'b', 'c', 'd', 'e'], 'frames'],
  ['an empty topic', ['', '{"ltp":1}'], 'topic'],
  ['a binary-garbage topic', [Buffer.from([0xff, 0xfe, 0x00, 0x80]), '{"ltp":1}'], 'topic'],
  ['a topic without a mode', ['NSE_RELIANCE', '{"ltp":1}'], 'topic'],
  ['a one-segment topic', ['RELIANCE', '{"ltp":1}'], 'topic'],
  ['an unknown mode', ['NSE_RELIANCE_TRADES', '{"ltp":1}'], 'topic'],
  ['an empty symbol', ['NSE__LTP', '{"ltp":1}'], 'topic'],
  ['an empty exchange', ['_RELIANCE_LTP', '{"ltp":1}'], 'topic'],
  ['a trailing separator', ['NSE_RELIANCE_', '{"ltp":1}'], 'topic'],
  ['a payload that is an array', ['NSE_ARR_LTP', '[1,2,3]'], 'not_object'],
  ['a payload that is a string', ['NSE_STR_LTP', '"1418.4"'], 'not_object'],
  ['a payload that is a number', ['NSE_NUM_LTP', '1418.4'], 'not_object'],
  ['a payload that is null', ['NSE_NUL_LTP', 'null'], 'not_object'],
  ['an empty payload', ['NSE_EMP_LTP', ''], 'json'],
  ['a truncated payload', ['NSE_TRU_LTP', '{"ltp":14'], 'json'],
  ['a payload with NaN', ['NSE_NAN_LTP', '{"ltp":NaN}'], 'json'],
  ['a payload of binary garbage', ['NSE_BIN_LTP', Buffer.from([0x00, 0x9f, 0x92, 0x96, 0xff])], 'encoding'],
  [
    'a payload of invalid UTF-8 inside JSON',
    ['NSE_UTF_LTP', Buffer.concat([Buffer.from('{"ltp":1,"s":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])],
    'encoding',
  ],
  ['a truncated multi-byte character', ['NSE_CUT_LTP', Buffer.concat([Buffer.from('{"s":"'), Buffer.from([0xe2, 0x82])])], 'encoding'],
];

describe('malformed feed messages', () => {
  it.each(cases)('counts %s under its reason, and the next good tick goes through', async (_name, frames, reason) => {
    const before = dropped();
    if (frames.length === 2) await env.feed.send(frames[0] as string, frames[1]);
    else await env.feed.sendFrames(frames);
    await goodTickGoesThrough();
    expect(delta(before)).toStrictEqual({ [reason]: 1 });
    expect(env.proxy.gateway.clientCount()).toBe(1);
  });

  it('survives a burst of 5,000 mixed bad messages and still delivers the next good tick', async () => {
    const before = dropped();
    for (let i = 0; i < 5000; i++) {
      const [, frames] = cases[i % cases.length] as (typeof cases)[number];
      if (frames.length === 2) await env.feed.send(frames[0] as string, frames[1]);
      else await env.feed.sendFrames(frames);
    }
    await goodTickGoesThrough();
    const want: Partial<Record<FeedDropReason, number>> = {};
    for (let i = 0; i < 5000; i++) {
      const reason = (cases[i % cases.length] as (typeof cases)[number])[2];
      want[reason] = (want[reason] ?? 0) + 1;
    }
    expect(delta(before)).toStrictEqual(want);
  });
});

describe('odd but valid payloads', () => {
  /** Subscribes to a fresh symbol at `mode` and publishes `payload` on `topicMode`; returns the frame. */
  async function roundTrip(mode: 1 | 2 | 3, topicMode: 'LTP' | 'QUOTE' | 'DEPTH', payload: string): Promise<Msg> {
    const sym = uniq('ODD');
    await client.request({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode }, (m) => m['type'] === 'subscribe');
    await env.publish(`NSE_${sym}_${topicMode}`, payload);
    return client.next((m) => m['type'] === 'market_data' && m['symbol'] === sym);
  }

  it('drops book levels with NaN, infinite, missing or non-numeric prices, keeps negative ones, and sorts the rest', async () => {
    const payload =
      '{"ltp":100,"depth":{"buy":[{"price":"NaN","quantity":1},{"price":99,"quantity":2},{"quantity":3},null,' +
      '{"price":1e999,"quantity":4},{"price":-5,"quantity":5},{"price":"100.5","quantity":6},{"price":[1],"quantity":7}],' +
      '"sell":[{"price":101,"quantity":1},{"price":-1,"quantity":2},{"price":true,"quantity":3},7,{"price":100.75,"quantity":4}]}}';
    const before = dropped();
    const frame = await roundTrip(3, 'DEPTH', payload);
    expect(frame['data']).toStrictEqual({
      ltp: 100,
      depth: {
        buy: [
          { price: '100.5', quantity: 6 },
          { price: 99, quantity: 2 },
          { price: -5, quantity: 5 },
        ],
        sell: [
          { price: -1, quantity: 2 },
          { price: 100.75, quantity: 4 },
          { price: 101, quantity: 1 },
        ],
      },
    });
    expect(delta(before)).toStrictEqual({});
  });

  it('passes books of the wrong shape through untouched', async () => {
    const payload = '{"ltp":1,"depth":{"buy":"none","sell":{"0":{"price":1}}},"bids":7}';
    expect((await roundTrip(3, 'DEPTH', payload))['data']).toStrictEqual(JSON.parse(payload));
  });

  it('keeps a __proto__ key in a payload as a plain field and pollutes no prototype', async () => {
    const payload = '{"ltp":5,"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}';
    const frame = await roundTrip(1, 'LTP', payload);
    expect(Object.prototype.hasOwnProperty.call(frame['data'], '__proto__')).toBe(true);
    expect(JSON.stringify(frame['data'])).toBe(payload);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each([
    ['an LTP tick', 1 as const, 'LTP' as const],
    ['a Depth tick to a Depth client', 3 as const, 'DEPTH' as const],
    ['a Depth tick to an LTP client (the book is left out)', 1 as const, 'DEPTH' as const],
  ])('drops %s nested 5,000 deep without crashing, counted as an error', async (_name, mode, topicMode) => {
    const sym = uniq('DEEP');
    await client.request({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode }, (m) => m['type'] === 'subscribe');
    const before = dropped();
    // An unsorted book makes the pipeline copy the payload, so it has to be serialised again.
    await env.publish(`NSE_${sym}_${topicMode}`, `{"ltp":1,"bids":[[1,1],[2,1]],"x":${deepJson(5000, false)}}`);
    await env.publish(`NSE_${sym}_${topicMode}`, '{"ltp":2}');
    const frame = await client.next((m) => m['type'] === 'market_data' && m['symbol'] === sym);
    expect(frame['data']).toStrictEqual({ ltp: 2 });
    expect(frame['seq']).toBe(2);
    const d = delta(before);
    expect(d).toStrictEqual({ error: 1 });
  });

  it('delivers an unencodable Depth tick to the clients it can be encoded for, and leaves no broken snapshot', async () => {
    const sym = uniq('HALF');
    const other = await env.login(suite);
    // The LTP client holds first, so it comes first in the hub's delivery loop.
    await client.request({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode: 1 }, (m) => m['type'] === 'subscribe');
    await other.request({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode: 3 }, (m) => m['type'] === 'subscribe');
    const before = dropped();
    // The book is sorted, so Depth clients get the publisher's own text; the LTP client's copy
    // without the book has to be serialised again, and that overflows the stack.
    const payload = `{"ltp":1,"depth":{"buy":[{"price":1,"quantity":1}],"sell":[]},"x":${deepJson(5000, false)}}`;
    await env.publish(`NSE_${sym}_DEPTH`, payload);
    const deep = await other.next((m) => m['type'] === 'market_data' && m['symbol'] === sym);
    expect(deep['seq']).toBe(1);
    expect(deep['mode']).toBe(3);
    expect(delta(before)).toStrictEqual({ error: 1 });

    // A new LTP subscriber gets its reply and nothing else: no snapshot of the tick, no SERVER_ERROR.
    const late = await env.login(suite);
    const reply = await late.request({ action: 'subscribe', symbol: sym, exchange: 'NSE', mode: 1 });
    expect(reply).toMatchObject({ type: 'subscribe', status: 'success' });
    await env.publish(`NSE_${sym}_LTP`, '{"ltp":2}');
    for (const c of [client, late]) {
      const next = await c.next((m) => m['symbol'] === sym || m['status'] === 'error');
      // seq 2: the LTP clients can tell they missed the tick they could not be sent.
      expect(next).toMatchObject({ type: 'market_data', mode: 1, seq: 2, data: { ltp: 2 } });
    }
  });
});
