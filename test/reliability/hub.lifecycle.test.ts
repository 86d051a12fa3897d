/**
 * Issue 14, model-based: random ticks (fresh and repeated keys), subscribes, unsubscribes, client
 * departures and clock advances against a Hub with a small `maxKeys` and `keyIdleMs`, and a plain
 * model of the key lifecycle. After every step the hub keeps exactly the symbols the model keeps
 * (least recently ticked unheld symbols evicted first, idle ones swept), counts keys and evictions
 * as the model does, and every held symbol that ever ticked still has its snapshot.
 */
import fc from 'fast-check';
import { type Frame, Hub, type HubClient } from '../../src/hub';
import { formatTopic, type Mode } from '../../streams';

const SEED = 0x14e7;
const CAP = 4;
const IDLE_S = 10;
const SYMBOLS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];
const CLIENTS = 3;

interface SymbolModel {
  /** Topic modes ticked (the keys it stands for). */
  readonly keys: Set<Mode>;
  /** When last ticked or let go of, on the hub's clock (s). */
  at: number;
  /** Order of that touch: the least recent unheld symbol is evicted first. */
  stamp: number;
  lastPrice: number;
}

interface Model {
  readonly kept: Map<string, SymbolModel>;
  /** client → symbol → modes held */
  readonly held: Map<number, Map<string, Set<Mode>>>;
  clock: number;
  stamps: number;
  readonly evicted: { idle: number; cap: number };
}

type Op =
  | { kind: 'tick'; symbol: string; mode: Mode }
  | { kind: 'subscribe'; client: number; symbol: string; mode: Mode }
  | { kind: 'unsubscribe'; client: number; symbol: string }
  | { kind: 'leave'; client: number }
  | { kind: 'advance'; seconds: number };

const symbol = fc.constantFrom(...SYMBOLS);
const mode = fc.constantFrom<Mode>(1, 2, 3);
const client = fc.integer({ min: 0, max: CLIENTS - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('tick' as const), symbol, mode }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('subscribe' as const), client, symbol, mode }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('unsubscribe' as const), client, symbol }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), client }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 12 }) }) },
);

const isHeld = (m: Model, s: string): boolean => [...m.held.values()].some((h) => (h.get(s)?.size ?? 0) > 0);
const keyCount = (m: Model): number => [...m.kept.values()].reduce((n, s) => n + s.keys.size, 0);

function forget(m: Model, s: string, reason: 'idle' | 'cap'): void {
  m.evicted[reason] += (m.kept.get(s) as SymbolModel).keys.size;
  m.kept.delete(s);
}

function touch(m: Model, s: SymbolModel): void {
  s.at = m.clock;
  s.stamp = m.stamps++;
}

function modelTick(m: Model, s: string, md: Mode, price: number): void {
  let entry = m.kept.get(s);
  const fresh = entry === undefined || !entry.keys.has(md);
  if (entry === undefined) {
    entry = { keys: new Set(), at: 0, stamp: 0, lastPrice: price };
    m.kept.set(s, entry);
  }
  entry.keys.add(md);
  entry.lastPrice = price;
  touch(m, entry);
  if (!fresh) return;
  while (keyCount(m) > CAP) {
    const unheld = [...m.kept].filter(([name]) => name !== s && !isHeld(m, name)).sort((a, b) => a[1].stamp - b[1].stamp);
    if (unheld.length === 0) break;
    forget(m, (unheld[0] as [string, SymbolModel])[0], 'cap');
  }
}

function modelRelease(m: Model, c: number, s: string): void {
  const h = m.held.get(c);
  if (!h || (h.get(s)?.size ?? 0) === 0) return;
  h.delete(s);
  const entry = m.kept.get(s);
  if (entry && !isHeld(m, s)) touch(m, entry);
}

describe('Hub key lifecycle against a model', () => {
  it('keeps exactly the symbols the model keeps, counts what it forgets, and never forgets a held one', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        let now = 0;
        const hub = new Hub({ broker: 'b', maxKeys: CAP, keyIdleMs: IDLE_S * 1000, now: () => now });
        const handles: HubClient[] = [];
        const m: Model = { kept: new Map(), held: new Map(), clock: 0, stamps: 0, evicted: { idle: 0, cap: 0 } };
        const open = (c: number): HubClient => {
          if (!handles[c]) {
            handles[c] = hub.addClient();
            m.held.set(c, new Map());
          }
          return handles[c] as HubClient;
        };
        let price = 0;
        for (const o of ops) {
          if (o.kind === 'tick') {
            price++;
            hub.publish({
              exchange: 'NSE',
              symbol: o.symbol,
              mode: o.mode,
              key: formatTopic({ exchange: 'NSE', symbol: o.symbol, mode: o.mode }),
              data: { ltp: price },
              json: `{"ltp":${price}}`,
              bytes: undefined,
            });
            modelTick(m, o.symbol, o.mode, price);
          } else if (o.kind === 'subscribe') {
            const handle = open(o.client);
            hub.subscribe(handle, 'NSE', o.symbol, o.mode);
            const h = m.held.get(o.client) as Map<string, Set<Mode>>;
            h.set(o.symbol, (h.get(o.symbol) ?? new Set()).add(o.mode));
          } else if (o.kind === 'unsubscribe') {
            if (handles[o.client]) hub.unsubscribe(handles[o.client] as HubClient, 'NSE', o.symbol);
            modelRelease(m, o.client, o.symbol);
          } else if (o.kind === 'leave') {
            const handle = handles[o.client];
            if (handle) {
              // The hub releases a leaving client's symbols in the order it took them.
              const order = [...(m.held.get(o.client) as Map<string, Set<Mode>>).keys()];
              hub.removeClient(handle);
              for (const s of order) modelRelease(m, o.client, s);
              m.held.delete(o.client);
              delete handles[o.client];
            }
          } else {
            now += o.seconds * 1000;
            hub.sweep();
            m.clock = Math.floor(now / 1000);
            const idle = [...m.kept]
              .filter(([name, s]) => !isHeld(m, name) && m.clock - s.at >= IDLE_S)
              .sort((a, b) => a[1].stamp - b[1].stamp);
            for (const [name] of idle) forget(m, name, 'idle');
          }

          expect(hub.stats().keys).toBe(keyCount(m));
          expect({ ...hub.evictions() }).toStrictEqual(m.evicted);
          for (const s of SYMBOLS) {
            const kept = m.kept.get(s);
            const snap = hub.snapshot('NSE', s, 1);
            expect([
              s,
              snap === undefined ? undefined : (JSON.parse((snap as Frame).bytes.toString('utf8')) as { data: unknown }).data,
            ]).toStrictEqual([s, kept ? { ltp: kept.lastPrice } : undefined]);
          }
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
