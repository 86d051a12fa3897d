import type { Subscription } from 'rxjs';
import WebSocket from 'ws';
import {
  createTickcastClient,
  type MarketData,
  TickcastAuthError,
  type TickcastClient,
  type TickcastClientOptions,
  type TickcastStatus,
} from '../../src/client';
import { MiniProxy } from '../helpers/miniProxy';

const KEY = 'real-key';
const tick = (ltp: number): MarketData => ({
  type: 'market_data',
  symbol: 'RELIANCE',
  exchange: 'NSE',
  mode: 1,
  data: { ltp },
  broker: 'mini',
});

describe('client over real sockets (ws on 127.0.0.1)', () => {
  let proxy: MiniProxy;
  let client: TickcastClient | undefined;
  const subscriptions: Subscription[] = [];

  const connect = (options: Partial<TickcastClientOptions> = {}): TickcastClient => {
    client = createTickcastClient({
      url: proxy.url,
      apiKey: KEY,
      WebSocketCtor: WebSocket,
      backoff: { initialMs: 10, maxMs: 50, factor: 2, jitter: 0 },
      unsubscribeGraceMs: 30,
      ...options,
    });
    return client;
  };

  beforeEach(async () => {
    proxy = await MiniProxy.start(KEY);
  });

  afterEach(async () => {
    for (const s of subscriptions.splice(0)) s.unsubscribe();
    client?.close();
    client = undefined;
    await proxy.stop();
  });

  it('authenticates, subscribes once for two observers of a key, and unsubscribes after the grace period', async () => {
    const c = connect();
    const first: MarketData[] = [];
    const second: MarketData[] = [];
    subscriptions.push(c.ticks$('RELIANCE', 'NSE', 1).subscribe((t) => first.push(t)));
    subscriptions.push(c.ticks$('RELIANCE', 'NSE', 'LTP').subscribe((t) => second.push(t)));
    await proxy.until(() => proxy.actions().includes('subscribe#0'), 'the subscribe');

    proxy.push(0, tick(1418.4));
    await proxy.until(() => first.length === 1 && second.length === 1, 'the tick on both observers');
    for (const s of subscriptions.splice(0)) s.unsubscribe();
    await proxy.until(() => proxy.actions().includes('unsubscribe#0'), 'the unsubscribe');

    expect(first).toStrictEqual([tick(1418.4)]);
    expect(second).toStrictEqual([tick(1418.4)]);
    expect(proxy.received).toStrictEqual([
      { conn: 0, frame: { action: 'authenticate', api_key: KEY, request_id: 'tc1' } },
      { conn: 0, frame: { action: 'subscribe', symbols: [{ symbol: 'RELIANCE', exchange: 'NSE' }], mode: 1, request_id: 'tc2' } },
      { conn: 0, frame: { action: 'unsubscribe', symbols: [{ symbol: 'RELIANCE', exchange: 'NSE', mode: 1 }], request_id: 'tc3' } },
    ]);
  });

  it('reconnects after a 1001 close, authenticates and subscribes again, and ticks resume on the same Observable', async () => {
    const c = connect();
    const statuses: TickcastStatus[] = [];
    const ticks: MarketData[] = [];
    let ended = false;
    subscriptions.push(c.status$.subscribe((s) => statuses.push(s)));
    subscriptions.push(
      c.ticks$('RELIANCE', 'NSE', 1).subscribe({ next: (t) => ticks.push(t), error: () => (ended = true), complete: () => (ended = true) }),
    );
    await proxy.until(() => proxy.actions().includes('subscribe#0'), 'the first subscribe');
    proxy.push(0, tick(1));
    await proxy.until(() => ticks.length === 1, 'the first tick');

    proxy.closeAll(1001);
    await proxy.until(() => proxy.actions().includes('subscribe#1'), 'the subscribe on the new connection');
    proxy.push(1, tick(2));
    await proxy.until(() => ticks.length === 2, 'the tick after the reconnect');

    expect(ticks).toStrictEqual([tick(1), tick(2)]);
    expect(ended).toBe(false);
    expect(statuses).toStrictEqual(['connecting', 'open', 'reconnecting', 'open']);
    expect(proxy.actions()).toStrictEqual(['authenticate#0', 'subscribe#0', 'authenticate#1', 'subscribe#1']);
    expect(proxy.received[3]?.frame).toStrictEqual({
      action: 'subscribe',
      symbols: [{ symbol: 'RELIANCE', exchange: 'NSE' }],
      mode: 1,
      request_id: 'tc4',
    });
  });

  it('errors status$ with TickcastAuthError on a wrong key and does not reconnect', async () => {
    const c = connect({ apiKey: 'wrong-key' });
    let failure: unknown;
    subscriptions.push(c.status$.subscribe({ error: (err: unknown) => (failure = err) }));
    await proxy.until(() => failure !== undefined && proxy.isClosed(0), 'the refusal and the close');
    // Three times the longest backoff: a client that retried would have connected again by now.
    await new Promise((resolve) => setTimeout(resolve, 150));

    expect(failure).toStrictEqual(new TickcastAuthError('AUTHENTICATION_ERROR', 'Invalid API key', 'tc1'));
    expect(proxy.connections.length).toBe(1);
    expect(proxy.actions()).toStrictEqual(['authenticate#0']);
  });
});
