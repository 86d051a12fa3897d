/**
 * Issue 7, model-based: random sequences of client arrivals and departures, subscribes,
 * unsubscribes (one mode or every mode), snapshots and ticks against the Hub and a plain model of
 * protocol.md's fan-out rules. After every step the index matches the model exactly (held modes,
 * counts, sizes), every tick reached exactly the clients the mode hierarchy says, once each, with
 * the right tag and seq, and a departed client leaves no trace.
 */
import fc from 'fast-check';
import { type Frame, Hub, type HubClient } from '../../src/hub';
import { formatTopic, type Mode } from '../../streams';

const SEED = 0x4b0b;
const BROKER = 'b';
const SYMBOLS = [
  ['NSE', 'TCS'],
  ['NSE', 'INFY'],
  ['BSE', 'TCS'],
  ['NSE_INDEX', '__proto__'],
] as const;

type Sym = (typeof SYMBOLS)[number];
const keyOf = ([exchange, symbol]: Sym): string => `${exchange}\u0000${symbol}`;

interface ClientModel {
  readonly held: Map<string, Set<Mode>>;
}

interface Model {
  readonly clients: Map<number, ClientModel>;
  /** symbol → seq[1..3] */
  readonly seq: Map<string, number[]>;
  /** symbol → the newest published payload of mode ≥ m, per m */
  readonly last: Map<string, (number | undefined)[]>;
  readonly topics: Set<string>;
  nextId: number;
}

interface Real {
  readonly hub: Hub;
  readonly handles: Map<number, HubClient>;
  readonly inbox: Map<number, Frame[]>;
  price: number;
}

const mode = fc.constantFrom<Mode>(1, 2, 3);
const sym = fc.constantFrom(...SYMBOLS);
const highest = (modes: Set<Mode>, atMost: Mode): Mode | 0 => ([3, 2, 1] as Mode[]).find((m) => m <= atMost && modes.has(m)) ?? 0;

/** Picks the model's i-th live client (modulo), or none. */
function pick(m: Model, i: number): number | undefined {
  const ids = [...m.clients.keys()];
  return ids.length === 0 ? undefined : ids[i % ids.length];
}

function checkIndex(m: Model, r: Real): void {
  const heldSymbols = new Set<string>();
  let subscriptions = 0;
  for (const [id, c] of m.clients) {
    const handle = r.handles.get(id) as HubClient;
    let n = 0;
    for (const s of SYMBOLS) {
      const modes = c.held.get(keyOf(s)) ?? new Set<Mode>();
      expect(r.hub.held(handle, s[0], s[1])).toStrictEqual([...modes].sort());
      n += modes.size;
      if (modes.size > 0) heldSymbols.add(keyOf(s));
    }
    expect(r.hub.countHeld(handle)).toBe(n);
    subscriptions += n;
  }
  const symbols = new Set([...heldSymbols, ...m.seq.keys()]);
  expect(r.hub.stats()).toStrictEqual({
    clients: m.clients.size,
    subscriptions,
    symbols: symbols.size,
    heldSymbols: heldSymbols.size,
    keys: m.topics.size,
  });
}

class AddClient implements fc.Command<Model, Real> {
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const id = m.nextId++;
    const handle = r.hub.addClient();
    const frames: Frame[] = [];
    handle.frames$.subscribe((f) => frames.push(f));
    r.handles.set(id, handle);
    r.inbox.set(id, frames);
    m.clients.set(id, { held: new Map() });
    checkIndex(m, r);
  }
  toString = (): string => 'addClient';
}

class RemoveClient implements fc.Command<Model, Real> {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>): boolean => m.clients.size > 0;
  run(m: Model, r: Real): void {
    const id = pick(m, this.i) as number;
    let completed = false;
    (r.handles.get(id) as HubClient).frames$.subscribe({ complete: () => (completed = true) });
    r.hub.removeClient(r.handles.get(id) as HubClient);
    expect(completed).toBe(true);
    // A removed handle is inert: nothing it does touches the index.
    expect(r.hub.subscribe(r.handles.get(id) as HubClient, 'NSE', 'TCS', 1)).toBe(false);
    m.clients.delete(id);
    r.handles.delete(id);
    r.inbox.delete(id);
    checkIndex(m, r);
  }
  toString = (): string => `removeClient(${this.i})`;
}

class Subscribe implements fc.Command<Model, Real> {
  constructor(
    readonly i: number,
    readonly s: Sym,
    readonly mode: Mode,
  ) {}
  check = (m: Readonly<Model>): boolean => m.clients.size > 0;
  run(m: Model, r: Real): void {
    const id = pick(m, this.i) as number;
    const held = (m.clients.get(id) as ClientModel).held;
    const modes = held.get(keyOf(this.s)) ?? new Set<Mode>();
    const isNew = !modes.has(this.mode);
    expect(r.hub.subscribe(r.handles.get(id) as HubClient, this.s[0], this.s[1], this.mode)).toBe(isNew);
    modes.add(this.mode);
    held.set(keyOf(this.s), modes);
    checkIndex(m, r);
  }
  toString = (): string => `subscribe(${this.i}, ${this.s.join(':')}, ${this.mode})`;
}

class Unsubscribe implements fc.Command<Model, Real> {
  constructor(
    readonly i: number,
    readonly s: Sym,
    readonly mode: Mode | undefined,
  ) {}
  check = (m: Readonly<Model>): boolean => m.clients.size > 0;
  run(m: Model, r: Real): void {
    const id = pick(m, this.i) as number;
    const held = (m.clients.get(id) as ClientModel).held;
    const modes = held.get(keyOf(this.s)) ?? new Set<Mode>();
    const removed = ([1, 2, 3] as Mode[]).filter((x) => modes.has(x) && (this.mode === undefined || this.mode === x));
    expect(r.hub.unsubscribe(r.handles.get(id) as HubClient, this.s[0], this.s[1], this.mode)).toStrictEqual(removed);
    for (const x of removed) modes.delete(x);
    if (modes.size === 0) held.delete(keyOf(this.s));
    checkIndex(m, r);
  }
  toString = (): string => `unsubscribe(${this.i}, ${this.s.join(':')}, ${String(this.mode)})`;
}

class UnsubscribeAll implements fc.Command<Model, Real> {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>): boolean => m.clients.size > 0;
  run(m: Model, r: Real): void {
    const id = pick(m, this.i) as number;
    const held = (m.clients.get(id) as ClientModel).held;
    const removed = r.hub.unsubscribeAll(r.handles.get(id) as HubClient);
    expect(removed.map((x) => `${x.exchange}\u0000${x.symbol} ${x.modes.join(',')}`).sort()).toStrictEqual(
      [...held].map(([k, modes]) => `${k} ${[...modes].sort().join(',')}`).sort(),
    );
    held.clear();
    checkIndex(m, r);
  }
  toString = (): string => `unsubscribeAll(${this.i})`;
}

/** A command about one (symbol, mode) that any state allows. */
abstract class OnKey {
  constructor(
    readonly s: Sym,
    readonly mode: Mode,
  ) {}
  check = (): boolean => true;
}

class Publish extends OnKey implements fc.Command<Model, Real> {
  run(m: Model, r: Real): void {
    const [exchange, symbol] = this.s;
    const price = ++r.price;
    const seq = m.seq.get(keyOf(this.s)) ?? [0, 0, 0, 0];
    const last = m.last.get(keyOf(this.s)) ?? [];
    for (let k = 1; k <= this.mode; k++) {
      seq[k]!++;
      last[k] = price;
    }
    m.seq.set(keyOf(this.s), seq);
    m.last.set(keyOf(this.s), last);
    m.topics.add(formatTopic({ exchange, symbol, mode: this.mode }));
    for (const frames of r.inbox.values()) frames.length = 0;
    r.hub.publish({
      exchange,
      symbol,
      mode: this.mode,
      key: formatTopic({ exchange, symbol, mode: this.mode }),
      data: { ltp: price },
      json: undefined,
      bytes: undefined,
    });
    for (const [id, c] of m.clients) {
      const tag = highest(c.held.get(keyOf(this.s)) ?? new Set(), this.mode);
      const got = (r.inbox.get(id) as Frame[]).map((f) => JSON.parse(f.bytes.toString('utf8')) as unknown);
      expect(got).toStrictEqual(
        tag === 0 ? [] : [{ type: 'market_data', symbol, exchange, mode: tag, seq: seq[tag], data: { ltp: price }, broker: BROKER }],
      );
    }
    checkIndex(m, r);
  }
  toString = (): string => `publish(${this.s.join(':')}, ${this.mode})`;
}

class Snapshot extends OnKey implements fc.Command<Model, Real> {
  run(m: Model, r: Real): void {
    const [exchange, symbol] = this.s;
    const price = m.last.get(keyOf(this.s))?.[this.mode];
    const frame = r.hub.snapshot(exchange, symbol, this.mode);
    const seq = m.seq.get(keyOf(this.s))?.[this.mode];
    expect(frame === undefined ? undefined : JSON.parse(frame.bytes.toString('utf8'))).toStrictEqual(
      price === undefined
        ? undefined
        : { type: 'market_data', symbol, exchange, mode: this.mode, seq, data: { ltp: price }, broker: BROKER },
    );
    checkIndex(m, r);
  }
  toString = (): string => `snapshot(${this.s.join(':')}, ${this.mode})`;
}

const commands = [
  fc.constant(new AddClient()),
  fc.nat(7).map((i) => new RemoveClient(i)),
  fc.tuple(fc.nat(7), sym, mode).map(([i, s, m]) => new Subscribe(i, s, m)),
  fc.tuple(fc.nat(7), sym, mode).map(([i, s, m]) => new Subscribe(i, s, m)),
  fc.tuple(fc.nat(7), sym, fc.option(mode, { nil: undefined })).map(([i, s, m]) => new Unsubscribe(i, s, m)),
  fc.nat(7).map((i) => new UnsubscribeAll(i)),
  fc.tuple(sym, mode).map(([s, m]) => new Publish(s, m)),
  fc.tuple(sym, mode).map(([s, m]) => new Snapshot(s, m)),
];

describe('Hub against a model of the fan-out rules (fast-check commands)', () => {
  it('keeps the index equal to the model and delivers every tick exactly where the mode hierarchy says', () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 80 }), (cmds) => {
        const model: Model = { clients: new Map(), seq: new Map(), last: new Map(), topics: new Set(), nextId: 1 };
        const real: Real = { hub: new Hub({ broker: BROKER }), handles: new Map(), inbox: new Map(), price: 0 };
        fc.modelRun(() => ({ model, real }), cmds);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});
