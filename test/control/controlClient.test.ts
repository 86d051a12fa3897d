/**
 * ControlClient against a small feed host written here: a real ROUTER on 127.0.0.1 that records
 * every request and answers as a test tells it (docs/control.md). Exact request sequences, ref-counts,
 * timeouts, restarts and a host that is not there.
 */
import fc from 'fast-check';
import { Router } from 'zeromq';
import { ControlClient, type ControlClientOptions, ControlError, FEED_HOST_UNAVAILABLE } from '../../src/control';
import type { Identity, UpstreamItem } from '../../src/control';
import { freePort } from '../helpers/feed';
import { scopes, sleep, until } from '../helpers/scope';

jest.setTimeout(20_000);

const { each } = scopes();

type Req = Record<string, unknown> & { op: string };
/** Answers a request; `undefined` leaves it unanswered (a slow or hung host). */
type Handler = (req: Req) => Record<string, unknown> | undefined;

/** A feed host: binds `endpoint`, records requests (without hello/health), answers with `handler`. */
class TestHost {
  readonly requests: Req[] = [];
  private readonly router = new Router({ linger: 0 });
  handler: Handler = defaultHandler;

  private constructor(readonly epoch: string) {}

  static async start(endpoint: string, epoch: string): Promise<TestHost> {
    const host = new TestHost(epoch);
    await host.router.bind(endpoint);
    void host.loop();
    return host;
  }

  /** Requests of one op, e.g. the subscribes. */
  ops(op: string): Req[] {
    return this.requests.filter((r) => r.op === op);
  }

  private async loop(): Promise<void> {
    try {
      for await (const [peer, empty, id, body] of this.router) {
        const req = JSON.parse((body as Buffer).toString()) as Req;
        if (req.op !== 'hello' && req.op !== 'health') this.requests.push(req);
        const reply = this.handler(req);
        if (reply) await this.router.send([peer as Buffer, empty as Buffer, id as Buffer, JSON.stringify({ epoch: this.epoch, ...reply })]);
      }
    } catch {
      // closed
    }
  }

  close(): void {
    this.router.close();
  }
}

function defaultHandler(req: Req): Record<string, unknown> | undefined {
  switch (req.op) {
    case 'hello':
      return { ok: true, protocol: 1, name: 'test' };
    case 'health':
      return { ok: true, adapters: [{ user_id: 'alice', broker: 'zerodha', status: 'connected', message: '' }] };
    case 'verify':
      if (req['api_key'] === 'good-key') return { ok: true, user_id: 'alice', broker: 'zerodha' };
      if (req['api_key'] === 'no-broker') return { ok: false, code: 'NO_BROKER', message: 'No broker configuration found for user' };
      return { ok: false, code: 'INVALID_API_KEY', message: 'Invalid API key' };
    case 'invalidate':
      return { ok: true };
    case 'subscribe':
    case 'unsubscribe':
      return {
        ok: true,
        results: (req['items'] as UpstreamItem[]).map((i) =>
          i.symbol === 'BADSYM' ? { ok: false, code: 'INVALID_SYMBOL', message: 'Symbol not found' } : { ok: true },
        ),
      };
    default:
      return { ok: false, code: 'UNKNOWN_OP', message: 'unknown op' };
  }
}

const alice: Identity = { userId: 'alice', broker: 'zerodha' };
const bob: Identity = { userId: 'bob', broker: 'angel' };
const reliance: UpstreamItem = { exchange: 'NSE', symbol: 'RELIANCE', mode: 2, depth: 5 };
const tcs: UpstreamItem = { exchange: 'NSE', symbol: 'TCS', mode: 1, depth: 5 };
const bad: UpstreamItem = { exchange: 'NSE', symbol: 'BADSYM', mode: 1, depth: 5 };
const wire = (i: UpstreamItem): Record<string, unknown> => ({ exchange: i.exchange, symbol: i.symbol, mode: i.mode, depth: i.depth });

async function setup(
  options: Partial<ControlClientOptions> = {},
  epoch = 'e1',
): Promise<{ host: TestHost; client: ControlClient; endpoint: string }> {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const host = each.add(await TestHost.start(endpoint, epoch));
  const client = each.add(new ControlClient({ endpoint, timeoutMs: 2000, healthIntervalMs: 50, ...options }));
  await until(() => client.status === 'up', 'the client to reach the host');
  return { host, client, endpoint };
}

describe('verify', () => {
  it('names the owner of a good key, caches it, and asks the host once for concurrent callers', async () => {
    const { host, client } = await setup();
    const [a, b] = await Promise.all([client.verify('good-key'), client.verify('good-key')]);
    expect(a).toEqual(alice);
    expect(b).toEqual(alice);
    expect(await client.verify('good-key')).toEqual(alice);
    expect(host.ops('verify')).toEqual([{ op: 'verify', api_key: 'good-key' }]);
  });

  it('answers undefined for an invalid key and caches that for the bad-key lifetime only', async () => {
    let t = 1_000_000;
    const { host, client } = await setup({ now: () => t, badKeyTtlMs: 300_000 });
    expect(await client.verify('wrong')).toBeUndefined();
    expect(await client.verify('wrong')).toBeUndefined();
    expect(host.ops('verify')).toHaveLength(1);
    t += 300_001;
    expect(await client.verify('wrong')).toBeUndefined();
    expect(host.ops('verify')).toHaveLength(2);
  });

  it('expires a good key after its lifetime, and does not cache a refusal other than INVALID_API_KEY', async () => {
    let t = 1_000_000;
    const { host, client } = await setup({ now: () => t, goodKeyTtlMs: 36_000_000 });
    await client.verify('good-key');
    t += 36_000_001;
    await client.verify('good-key');
    expect(await client.verify('no-broker')).toBeUndefined();
    expect(await client.verify('no-broker')).toBeUndefined();
    expect(host.ops('verify').map((r) => r['api_key'])).toEqual(['good-key', 'good-key', 'no-broker', 'no-broker']);
  });

  it('rejects with FEED_HOST_UNAVAILABLE when no host is there, at once, and caches nothing', async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const client = each.add(new ControlClient({ endpoint, timeoutMs: 5000 }));
    const started = Date.now();
    const err = (await client.verify('good-key').catch((e: unknown) => e)) as ControlError;
    expect(err).toBeInstanceOf(ControlError);
    expect(err.code).toBe(FEED_HOST_UNAVAILABLE);
    expect(err.message).toBe('feed host is not connected');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(client.status).toBe('down');
    const host = each.add(await TestHost.start(endpoint, 'e1'));
    await until(() => client.status === 'up', 'the host to come up');
    expect(await client.verify('good-key')).toEqual(alice);
    expect(host.ops('verify')).toHaveLength(1);
  });
});

describe('invalidate', () => {
  it('forgets cached keys on ALL and tells the host which user changed', async () => {
    const { host, client } = await setup();
    await client.verify('good-key');
    client.invalidate('alice', 'AUTH');
    await client.verify('good-key');
    client.invalidate('alice', 'ALL');
    await client.verify('good-key');
    await until(() => host.ops('invalidate').length === 2, 'the invalidates');
    expect(host.requests).toEqual([
      { op: 'verify', api_key: 'good-key' },
      { op: 'invalidate', user_id: 'alice', cache_type: 'AUTH' },
      { op: 'invalidate', user_id: 'alice', cache_type: 'ALL' },
      { op: 'verify', api_key: 'good-key' },
    ]);
  });
});

describe('subscribe and unsubscribe', () => {
  it('sends the first subscribe and the last unsubscribe of a key only, however many connections', async () => {
    const { host, client } = await setup();
    expect(await client.subscribe(alice, [reliance])).toEqual([{ ok: true }]);
    expect(await client.subscribe(alice, [reliance])).toEqual([{ ok: true }]);
    client.unsubscribe(alice, [reliance]);
    await sleep(100);
    expect(host.ops('unsubscribe')).toEqual([]);
    client.unsubscribe(alice, [reliance]);
    await until(() => host.ops('unsubscribe').length === 1, 'the last unsubscribe');
    expect(host.requests).toEqual([
      { op: 'subscribe', user_id: 'alice', broker: 'zerodha', items: [wire(reliance)] },
      { op: 'unsubscribe', user_id: 'alice', broker: 'zerodha', items: [wire(reliance)] },
    ]);
    expect(client.heldKeys).toBe(0);
  });

  it('shares one request between concurrent first subscribers', async () => {
    const { host, client } = await setup();
    const answers = await Promise.all([
      client.subscribe(alice, [reliance, tcs]),
      client.subscribe(alice, [tcs]),
      client.subscribe(alice, [reliance]),
    ]);
    expect(answers).toEqual([[{ ok: true }, { ok: true }], [{ ok: true }], [{ ok: true }]]);
    expect(host.ops('subscribe')).toEqual([{ op: 'subscribe', user_id: 'alice', broker: 'zerodha', items: [wire(reliance), wire(tcs)] }]);
  });

  it("keeps users apart: one user's leaving never unsubscribes another's", async () => {
    const { host, client } = await setup();
    await client.subscribe(alice, [reliance]);
    await client.subscribe(bob, [reliance]);
    client.unsubscribe(bob, [reliance]);
    await until(() => host.ops('unsubscribe').length === 1, 'the unsubscribe');
    expect(host.requests).toEqual([
      { op: 'subscribe', user_id: 'alice', broker: 'zerodha', items: [wire(reliance)] },
      { op: 'subscribe', user_id: 'bob', broker: 'angel', items: [wire(reliance)] },
      { op: 'unsubscribe', user_id: 'bob', broker: 'angel', items: [wire(reliance)] },
    ]);
    expect(client.heldKeys).toBe(1);
  });

  it('relays an item error, holds nothing for it, and asks again for the next subscriber', async () => {
    const { host, client } = await setup();
    expect(await client.subscribe(alice, [bad, tcs])).toEqual([
      { ok: false, code: 'INVALID_SYMBOL', message: 'Symbol not found' },
      { ok: true },
    ]);
    expect(await client.subscribe(alice, [bad])).toEqual([{ ok: false, code: 'INVALID_SYMBOL', message: 'Symbol not found' }]);
    expect(host.ops('subscribe')).toHaveLength(2);
    expect(client.heldKeys).toBe(1);
  });

  it('fails every item of a refused request with its code', async () => {
    const { host, client } = await setup();
    host.handler = (req) =>
      req.op === 'subscribe' ? { ok: false, code: 'BROKER_INIT_ERROR', message: 'token expired' } : defaultHandler(req);
    expect(await client.subscribe(alice, [reliance, tcs])).toEqual([
      { ok: false, code: 'BROKER_INIT_ERROR', message: 'token expired' },
      { ok: false, code: 'BROKER_INIT_ERROR', message: 'token expired' },
    ]);
    expect(client.heldKeys).toBe(0);
  });

  it('unsubscribes a key released while its first subscribe was out, once the host answers', async () => {
    const { host, client } = await setup();
    const answer = client.subscribe(alice, [reliance]);
    client.unsubscribe(alice, [reliance]);
    expect(await answer).toEqual([{ ok: true }]);
    await until(() => host.ops('unsubscribe').length === 1, 'the unsubscribe');
    expect(client.heldKeys).toBe(0);
  });
});

describe('a host that does not answer', () => {
  it('fails subscribes with FEED_HOST_UNAVAILABLE after the timeout and sends a compensating unsubscribe', async () => {
    const { host, client } = await setup({ timeoutMs: 300, healthIntervalMs: 60_000 });
    const held: Req[] = [];
    host.handler = (req) => {
      if (req.op === 'subscribe') {
        held.push(req);
        return undefined;
      }
      return defaultHandler(req);
    };
    expect(await client.subscribe(alice, [reliance])).toEqual([
      { ok: false, code: FEED_HOST_UNAVAILABLE, message: 'feed host did not answer within 300 ms' },
    ]);
    // A slow subscribe (an adapter connecting to its broker) is not a down host.
    expect(client.status).toBe('up');
    await until(() => host.ops('unsubscribe').length === 1, 'the compensating unsubscribe');
    expect(host.requests).toEqual([
      { op: 'subscribe', user_id: 'alice', broker: 'zerodha', items: [wire(reliance)] },
      { op: 'unsubscribe', user_id: 'alice', broker: 'zerodha', items: [wire(reliance)] },
    ]);
    expect(client.heldKeys).toBe(0);
    expect(client.counters.resends).toBe(0);
  });

  it('fails subscribes at once with a clear message when no host is connected', async () => {
    const client = each.add(new ControlClient({ endpoint: `tcp://127.0.0.1:${await freePort()}`, timeoutMs: 5000 }));
    expect(await client.subscribe(alice, [reliance, tcs])).toEqual([
      { ok: false, code: FEED_HOST_UNAVAILABLE, message: 'feed host is not connected' },
      { ok: false, code: FEED_HOST_UNAVAILABLE, message: 'feed host is not connected' },
    ]);
    expect(client.heldKeys).toBe(0);
  });
});

describe('health and restarts', () => {
  it('reports the adapters the host names, and unknown for others', async () => {
    const { client } = await setup();
    await until(() => client.health().adapters.length === 1, 'a health answer');
    expect(client.health()).toEqual({
      state: 'up',
      epoch: 'e1',
      adapters: [{ userId: 'alice', broker: 'zerodha', status: 'connected', message: '' }],
    });
    expect(client.adapterStatus(alice)).toBe('connected');
    expect(client.adapterStatus(bob)).toBe('unknown');
  });

  it('re-sends every live interest, per user, to a host that restarted with a new epoch', async () => {
    const { host, client, endpoint } = await setup();
    await client.subscribe(alice, [reliance, tcs]);
    await client.subscribe(bob, [reliance]);
    expect(await client.subscribe(alice, [bad])).toEqual([{ ok: false, code: 'INVALID_SYMBOL', message: 'Symbol not found' }]);
    host.close();
    await sleep(100);
    const restarted = each.add(await TestHost.start(endpoint, 'e2'));
    await until(() => restarted.ops('subscribe').length === 2, 'the re-sent subscribes');
    expect(new Set(restarted.requests.map((r) => JSON.stringify(r)))).toEqual(
      new Set([
        JSON.stringify({ op: 'subscribe', user_id: 'alice', broker: 'zerodha', items: [wire(reliance), wire(tcs)] }),
        JSON.stringify({ op: 'subscribe', user_id: 'bob', broker: 'angel', items: [wire(reliance)] }),
      ]),
    );
    expect(client.health().epoch).toBe('e2');
    expect(client.counters.resends).toBe(1);
  });

  it('rejects a verify the host does not answer in time, without caching or marking the host down', async () => {
    const { host, client } = await setup({ timeoutMs: 200, healthIntervalMs: 60_000 });
    host.handler = (req) => (req.op === 'verify' ? undefined : defaultHandler(req));
    const err = (await client.verify('good-key').catch((e: unknown) => e)) as ControlError;
    expect([err.code, err.message]).toEqual([FEED_HOST_UNAVAILABLE, 'feed host did not answer within 200 ms']);
    expect(client.status).toBe('up');
    host.handler = defaultHandler;
    expect(await client.verify('good-key')).toEqual(alice);
    expect(host.ops('verify')).toHaveLength(2);
  });

  it('marks the host down while it is away and re-sends live interest when it answers again', async () => {
    const { host, client, endpoint } = await setup({ timeoutMs: 200 });
    await client.subscribe(alice, [tcs]);
    host.close();
    await until(() => client.status === 'down', 'the host to be seen down');
    const back = each.add(await TestHost.start(endpoint, 'e1'));
    await until(() => back.ops('subscribe').length === 1, 'the re-sent subscribe');
    expect(back.requests).toEqual([{ op: 'subscribe', user_id: 'alice', broker: 'zerodha', items: [wire(tcs)] }]);
  });

  it('sends a last unsubscribe the host missed once it is back', async () => {
    const { host, client, endpoint } = await setup({ timeoutMs: 200 });
    await client.subscribe(alice, [tcs, reliance]);
    host.close();
    await until(() => client.status === 'down', 'the host to be seen down');
    client.unsubscribe(alice, [tcs]);
    await sleep(50);
    const back = each.add(await TestHost.start(endpoint, 'e1'));
    await until(() => back.requests.length === 2, 'the re-sent subscribe and the owed unsubscribe');
    expect(back.requests).toEqual([
      { op: 'subscribe', user_id: 'alice', broker: 'zerodha', items: [wire(reliance)] },
      { op: 'unsubscribe', user_id: 'alice', broker: 'zerodha', items: [wire(tcs)] },
    ]);
  });
});

describe('ref-count property', () => {
  it('the host hears, per (user, key), subscribe and unsubscribe alternately, ending unsubscribed, and once per 0→1 and 1→0 when subscribes are awaited', async () => {
    const { host, client } = await setup({ healthIntervalMs: 60_000 });
    const users = [alice, bob];
    const items = [reliance, tcs, { ...reliance, mode: 3 as const }];
    const op = fc.record({ sub: fc.boolean(), user: fc.nat(1), item: fc.nat(1), together: fc.boolean() });
    let barriers = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        host.requests.length = 0;
        const held = new Map<string, number>();
        const expected = new Map<string, string[]>();
        const key = (u: number, i: number): string => `${u}/${i}`;
        const note = (k: string, what: string): void => void expected.set(k, [...(expected.get(k) ?? []), what]);
        const pending: Array<Promise<unknown>> = [];
        for (const o of ops) {
          const k = key(o.user, o.item);
          const n = held.get(k) ?? 0;
          if (o.sub) {
            if (n === 0) note(k, 'subscribe');
            held.set(k, n + 1);
            const answer = client.subscribe(users[o.user] as Identity, [items[o.item] as UpstreamItem]);
            // Some subscribes overlap the first one's request; the rest wait for their answer.
            if (o.together) pending.push(answer);
            else await answer;
          } else if (n > 0) {
            held.set(k, n - 1);
            if (n === 1) note(k, 'unsubscribe');
            client.unsubscribe(users[o.user] as Identity, [items[o.item] as UpstreamItem]);
          }
        }
        await Promise.all(pending);
        for (const [k, n] of held) {
          const [u, i] = k.split('/').map(Number) as [number, number];
          if (n > 0) note(k, 'unsubscribe');
          for (let j = 0; j < n; j++) client.unsubscribe(users[u] as Identity, [items[i] as UpstreamItem]);
        }
        // A barrier: requests travel in order on one connection and the host answers in order.
        await client.verify(`barrier-${++barriers}`);
        const seen = new Map<string, string[]>();
        for (const r of host.requests.filter((q) => q.op !== 'verify')) {
          const u = users.findIndex((x) => x.userId === r['user_id']);
          for (const it of r['items'] as UpstreamItem[]) {
            const i = items.findIndex((x) => x.symbol === it.symbol && x.mode === it.mode);
            seen.set(key(u, i), [...(seen.get(key(u, i)) ?? []), r.op]);
          }
        }
        // Per key the host hears subscribe, unsubscribe, subscribe... and ends unsubscribed. With
        // every subscribe awaited, that is exactly once per 0→1 and 1→0; a key released and taken
        // again while its first subscribe is out never bounces to the host, so there it may be fewer.
        for (const [k, want] of expected) {
          const got = seen.get(k) ?? [];
          expect(got).toEqual(got.map((_, j) => (j % 2 === 0 ? 'subscribe' : 'unsubscribe')));
          expect(got.length % 2).toBe(0);
          if (ops.some((o) => o.together)) expect(got.length).toBeLessThanOrEqual(want.length);
          else expect(got).toEqual(want);
          expect(got.length > 0).toBe(want.length > 0);
        }
        expect([...seen.keys()].every((k) => expected.has(k))).toBe(true);
        expect(client.heldKeys).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
