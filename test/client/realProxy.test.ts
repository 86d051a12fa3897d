import type { Subscription } from 'rxjs';
import WebSocket from 'ws';
import { createTickcastClient, type MarketData, TickcastAuthError, type TickcastClient, type TickcastStatus } from '../../src/client';
import { ALICE, BROKER, type Env, startEnv } from '../helpers/proxy';
import { Scope, uniq, until } from '../helpers/scope';

/** The client against the real proxy (gateway, hub, ZeroMQ feed), all on 127.0.0.1. */
describe('client against the real proxy', () => {
  const scope = new Scope();
  const subscriptions: Subscription[] = [];
  let client: TickcastClient | undefined;

  afterEach(async () => {
    for (const s of subscriptions.splice(0)) s.unsubscribe();
    client?.close();
    client = undefined;
    await scope.close();
  });

  const connect = (env: Env, apiKey = ALICE.key): TickcastClient => {
    client = createTickcastClient({
      url: env.proxy.wsUrl,
      apiKey,
      WebSocketCtor: WebSocket,
      backoff: { initialMs: 20, maxMs: 100, factor: 2, jitter: 0 },
      unsubscribeGraceMs: 50,
    });
    return client;
  };
  const frame = (symbol: string, mode: 1 | 2, seq: number, data: Record<string, unknown>): MarketData => ({
    type: 'market_data',
    symbol,
    exchange: 'NSE',
    mode,
    seq,
    data,
    broker: BROKER,
  });

  it('delivers ticks to each mode by the tag the proxy gives them, and ltp$ the LTP', async () => {
    const env = await startEnv(scope);
    const c = connect(env);
    const symbol = uniq('CLIENTX');
    const ltpFrames: MarketData[] = [];
    const quoteFrames: MarketData[] = [];
    const ltps: number[] = [];
    subscriptions.push(c.ticks$(symbol, 'NSE', 'LTP').subscribe((t) => ltpFrames.push(t)));
    subscriptions.push(c.ticks$(symbol, 'NSE', 'Quote').subscribe((t) => quoteFrames.push(t)));
    subscriptions.push(c.ltp$(symbol, 'NSE').subscribe((v) => ltps.push(v)));
    const open: TickcastStatus[] = [];
    subscriptions.push(c.status$.subscribe((s) => open.push(s)));
    await until(() => open.includes('open'), 'the client to be open');
    await flush(c);

    await env.publish(`NSE_${symbol}_LTP`, { ltp: 101.5 });
    await until(() => ltpFrames.length === 1, 'the LTP tick');
    await env.publish(`NSE_${symbol}_QUOTE`, { ltp: 102, volume: 9 });
    await until(() => quoteFrames.length === 1, 'the Quote tick');

    expect(ltpFrames).toStrictEqual([frame(symbol, 1, 1, { ltp: 101.5 })]);
    expect(quoteFrames).toStrictEqual([frame(symbol, 2, 1, { ltp: 102, volume: 9 })]);
    expect(ltps).toStrictEqual([101.5]);
  });

  it('asks for batched delivery with batchMs and hands each batched frame to its own stream', async () => {
    // No throttle: every tick of the burst is delivered, so the batches carry all three.
    const env = await startEnv(scope, { throttleMs: 0 });
    client = createTickcastClient({ url: env.proxy.wsUrl, apiKey: ALICE.key, WebSocketCtor: WebSocket, batchMs: 100 });
    const symbol = uniq('BATCHED');
    const raw: string[] = [];
    subscriptions.push(client.messages$.subscribe((m) => raw.push(String(m.type))));
    const quotes: MarketData[] = [];
    subscriptions.push(client.ticks$(symbol, 'NSE', 'Quote').subscribe((t) => quotes.push(t)));
    await until(() => raw.includes('subscribe'), 'the subscribe reply');
    await flush(client);

    for (const ltp of [1, 2, 3]) await env.publish(`NSE_${symbol}_QUOTE`, { ltp });
    await until(() => quotes.length === 3, 'three quotes');
    expect(quotes).toStrictEqual([1, 2, 3].map((ltp, i) => frame(symbol, 2, i + 1, { ltp })));
    expect(raw).toContain('set_options');
    expect(raw).toContain('market_data_batch');
    expect(raw).not.toContain('market_data');
  });

  it('errors status$ with the proxy refusal of a wrong key', async () => {
    const env = await startEnv(scope, {}, { feed: false });
    const c = connect(env, 'not-a-key');
    let failure: unknown;
    subscriptions.push(c.status$.subscribe({ error: (err: unknown) => (failure = err) }));
    await until(() => failure !== undefined, 'the refusal');
    expect(failure).toBeInstanceOf(TickcastAuthError);
    expect((failure as TickcastAuthError).code).toBe('AUTHENTICATION_ERROR');
    expect((failure as TickcastAuthError).serverMessage).toBe('Invalid API key');
  });

  it('comes back after a proxy restart (1001) on the same port: re-authenticates, re-subscribes, ticks resume', async () => {
    const first = await startEnv(scope);
    const c = connect(first);
    const symbol = uniq('CLIENTR');
    const statuses: TickcastStatus[] = [];
    const ticks: MarketData[] = [];
    let ended = false;
    subscriptions.push(c.status$.subscribe((s) => statuses.push(s)));
    subscriptions.push(
      c.ticks$(symbol, 'NSE', 1).subscribe({ next: (t) => ticks.push(t), error: () => (ended = true), complete: () => (ended = true) }),
    );
    await until(() => statuses.includes('open'), 'the first connection');
    await flush(c);
    await first.publish(`NSE_${symbol}_LTP`, { ltp: 1 });
    await until(() => ticks.length === 1, 'the tick before the restart');

    await first.proxy.close();
    const second = await startEnv(scope, { port: first.proxy.port });
    await until(() => statuses.length === 4, 'the client to be open again');
    await flush(c);
    await second.publish(`NSE_${symbol}_LTP`, { ltp: 2 });
    await until(() => ticks.length === 2, 'the tick after the restart');

    expect(statuses).toStrictEqual(['connecting', 'open', 'reconnecting', 'open']);
    expect(ticks).toStrictEqual([frame(symbol, 1, 1, { ltp: 1 }), frame(symbol, 1, 1, { ltp: 2 })]);
    expect(ended).toBe(false);
  });
});

/** Resolves once the proxy has answered a ping sent now: every earlier request has been answered. */
function flush(client: TickcastClient): Promise<void> {
  return new Promise((resolve, reject) => client.request({ action: 'ping' }).subscribe({ complete: () => resolve(), error: reject }));
}
