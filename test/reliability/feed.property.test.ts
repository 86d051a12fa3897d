/**
 * Issue 7, bad feed input, property-based: whatever a publisher sends (garbage topics, garbage
 * bytes, JSON of every shape, books with junk levels), the pipeline never errors or completes
 * early, and every message ends exactly one way: as a tick, or reported once with the reason a
 * plain reading of feed.md gives.
 */
import fc from 'fast-check';
import { from, VirtualTimeScheduler } from 'rxjs';
import { type InvalidReason, marketTicks, parseTopic, type RawTick, type Tick } from '../../streams';

const SEED = 0xfeed;

const topic = fc.oneof(
  fc.constantFrom('NSE_TCS_LTP', 'NSE_INDEX_NIFTY_quote', 'CRYPTO_SOL_INR_DEPTH', 'NSE_TCS:50_Depth', 'NSE___proto___LTP'),
  fc.constantFrom(
    '',
    '_',
    'NSE',
    'NSE_TCS',
    'NSE_TCS_',
    '_TCS_LTP',
    'NSE__LTP',
    'NSE_TCS_TRADES',
    'ZERODHA_u1_orders',
    'CACHE_INVALIDATE_x',
  ),
  fc.string({ maxLength: 20 }),
  fc
    .tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), fc.constantFrom('LTP', 'QUOTE', 'DEPTH', 'ltp'))
    .map((p) => p.join('_')),
);

const level = fc.oneof(
  fc.record({ price: fc.oneof(fc.double(), fc.constantFrom('NaN', '101.5', '', null)), quantity: fc.integer() }, { requiredKeys: [] }),
  fc.tuple(fc.oneof(fc.double({ noNaN: true }), fc.string({ maxLength: 4 })), fc.integer()),
  fc.constantFrom(null, 7, 'x', []),
);
const book = fc.oneof(
  fc.record({
    ltp: fc.double({ noNaN: true }),
    depth: fc.record({ buy: fc.array(level, { maxLength: 8 }), sell: fc.array(level, { maxLength: 8 }) }),
  }),
  fc.record({ ltp: fc.double({ noNaN: true }), bids: fc.array(level, { maxLength: 8 }), asks: fc.array(level, { maxLength: 8 }) }),
);
const payload = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  book.map((b) => JSON.stringify(b)),
  fc.string({ maxLength: 30 }),
  fc.uint8Array({ maxLength: 30 }),
  fc.constantFrom('', '{', '{"ltp":NaN}', '[1,2]', '"x"', 'null', '{"__proto__":{"x":1},"ltp":1}'),
);
const raw = fc.oneof(
  { weight: 20, arbitrary: fc.record({ topic, payload }) },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, 42, {}, { topic: 7, payload: '{}' }) as fc.Arbitrary<unknown> },
);

/** What feed.md says becomes of one message, worked out without the pipeline. */
function expectedOutcome(msg: unknown): InvalidReason | 'tick' {
  if (msg === null || typeof msg !== 'object') return 'topic';
  const { topic: t, payload: p } = msg as { topic: unknown; payload: unknown };
  if (typeof t !== 'string' || parseTopic(t) === null) return 'topic';
  let text: string;
  if (typeof p === 'string') text = p;
  else {
    const bytes = Buffer.from(p as Uint8Array);
    text = bytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(bytes)) return 'encoding';
  }
  let v: unknown;
  try {
    v = JSON.parse(text.charCodeAt(0) === 0xfeff && typeof p !== 'string' ? text.slice(1) : text);
  } catch {
    return 'json';
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? 'tick' : 'not_object';
}

describe('marketTicks on arbitrary feed messages (fast-check)', () => {
  it('ends every message exactly once, as a tick or with the reason feed.md gives, and never errors', () => {
    fc.assert(
      fc.property(fc.array(raw, { maxLength: 60 }), (messages) => {
        const scheduler = new VirtualTimeScheduler();
        const outcomes: { reason: InvalidReason | 'tick'; raw: unknown }[] = [];
        const ticks: Tick[] = [];
        let failed: unknown;
        let completed = false;
        from(messages as RawTick[])
          .pipe(
            marketTicks({
              throttleMs: 0,
              scheduler,
              onInvalid: (reason, r) => outcomes.push({ reason, raw: r }),
            }),
          )
          .subscribe({
            next: (t) => {
              ticks.push(t);
              outcomes.push({ reason: 'tick', raw: undefined });
            },
            error: (e: unknown) => (failed = e),
            complete: () => (completed = true),
          });
        scheduler.flush();
        expect(failed).toBeUndefined();
        expect(completed).toBe(true);
        // Throttling is off and every message is one outcome: the same list, in the same order.
        expect(outcomes.map((o) => o.reason)).toStrictEqual(messages.map(expectedOutcome));
        for (const t of ticks) {
          expect(t.data !== null && typeof t.data === 'object' && !Array.isArray(t.data)).toBe(true);
          if (t.json !== undefined) expect(JSON.parse(t.json)).toStrictEqual(t.data);
        }
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
