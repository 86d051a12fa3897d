import { get } from 'node:http';
import { parseExposition } from '../helpers/metrics';
import { ALICE, startEnv } from '../helpers/proxy';
import { Scope, uniq, until } from '../helpers/scope';
import { marketData } from '../helpers/wsClient';

/** GET `url`: status, content type and body. */
function fetchText(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

/** The value of one sample (`name` or `name{labels}`) in Prometheus text. */
function sample(body: string, name: string): number {
  const value = parseExposition(body).get(name);
  if (value === undefined) throw new Error(`no sample ${name} in:\n${body}`);
  return value;
}

describe('GET /metrics after real traffic', () => {
  const scope = new Scope();
  afterAll(() => scope.close());

  it('counts ticks in by mode, ticks the throttle held back, malformed messages, frames, bytes, clients and auth failures', async () => {
    // A long window: the first tick of the key goes out, the rest wait in the throttle.
    const env = await startEnv(scope, { throttleMs: 60_000 });
    const base = `http://127.0.0.1:${env.proxy.port}`;
    const before = await fetchText(`${base}/metrics`);
    expect(before.status).toBe(200);
    expect(before.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(sample(before.body, 'tickcast_ticks_received_total{mode="ltp"}')).toBe(0);
    expect(sample(before.body, 'tickcast_clients')).toBe(0);

    const stranger = await env.connect(scope);
    expect(await stranger.request({ action: 'authenticate', api_key: 'not-a-key' })).toMatchObject({ code: 'AUTHENTICATION_ERROR' });
    const client = await env.login(scope, ALICE);
    const symbol = uniq('METRX');
    await client.request({ action: 'subscribe', symbol, exchange: 'NSE', mode: 1 }, (m) => m['type'] === 'subscribe');

    for (let i = 1; i <= 5; i++) await env.publish(`NSE_${symbol}_LTP`, { ltp: 100 + i });
    await env.publish(`NSE_${symbol}_QUOTE`, { ltp: 106, volume: 10 });
    await env.publish(`NSE_${uniq('BADJSON')}_DEPTH`, 'not json');
    await env.publish('GARBAGE', '{}');
    await env.feed.sendFrames(['NSE_X_LTP', '{}', 'extra']);
    const delivered = [await client.next(marketData(symbol)), await client.next(marketData(symbol))];
    expect(delivered.map((m) => m['data'])).toEqual([{ ltp: 101 }, { ltp: 106, volume: 10 }]);
    await until(
      () => env.proxy.stats.feedDropped.frames === 1 && env.proxy.stats.feedDropped.topic === 1,
      'the malformed messages to be counted',
    );

    const after = (await fetchText(`${base}/metrics`)).body;
    expect({
      ltp: sample(after, 'tickcast_ticks_received_total{mode="ltp"}'),
      quote: sample(after, 'tickcast_ticks_received_total{mode="quote"}'),
      depth: sample(after, 'tickcast_ticks_received_total{mode="depth"}'),
      delivered: sample(after, 'tickcast_ticks_delivered_total'),
      throttled: sample(after, 'tickcast_ticks_throttled_total'),
      frames: sample(after, 'tickcast_feed_malformed_total{reason="frames"}'),
      topic: sample(after, 'tickcast_feed_malformed_total{reason="topic"}'),
      json: sample(after, 'tickcast_feed_malformed_total{reason="json"}'),
      framesSent: sample(after, 'tickcast_frames_sent_total'),
      clients: sample(after, 'tickcast_clients'),
      subscriptions: sample(after, 'tickcast_subscriptions'),
      authFailures: sample(after, 'tickcast_auth_failures_total'),
      connections: sample(after, 'tickcast_connections_total'),
      feedUp: sample(after, 'tickcast_feed_up'),
      stale: sample(after, 'tickcast_feed_stale'),
      connected: sample(after, 'tickcast_adapter_status{status="connected"}'),
    }).toEqual({
      ltp: 5,
      quote: 1,
      depth: 1,
      // The first LTP and the first QUOTE of the symbol went out; the bad JSON failed after the throttle.
      delivered: 2,
      throttled: 4,
      frames: 1,
      topic: 1,
      json: 1,
      framesSent: 2,
      clients: 2,
      subscriptions: 1,
      authFailures: 1,
      connections: 2,
      feedUp: 1,
      stale: 0,
      connected: 1,
    });
    // The two market_data frames, as the client read them (the proxy writes compact JSON).
    expect(sample(after, 'tickcast_bytes_sent_total')).toBe(delivered.reduce((n, m) => n + Buffer.byteLength(JSON.stringify(m)), 0));
    expect(sample(after, 'tickcast_bytes_sent_total')).toBe(env.proxy.stats.bytesSent);
    expect(after).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(after).toMatch(/^process_cpu_user_seconds_total \d/m);
  });

  it('reports a feed silent for longer than --stale-after-s as stale', async () => {
    const env = await startEnv(scope, { staleAfterS: 0.2 });
    const url = `http://127.0.0.1:${env.proxy.port}/metrics`;
    await env.publish('NSE_STALE_LTP', { ltp: 1 });
    await until(() => env.proxy.adapterStatus() === 'stale', 'the feed to go stale');
    const body = (await fetchText(url)).body;
    expect([
      sample(body, 'tickcast_feed_stale'),
      sample(body, 'tickcast_adapter_status{status="stale"}'),
      sample(body, 'tickcast_adapter_status{status="connected"}'),
    ]).toEqual([1, 1, 0]);
    await env.publish('NSE_STALE_LTP', { ltp: 2 });
    await until(() => env.proxy.adapterStatus() === 'connected', 'the feed to come back');
    expect(sample((await fetchText(url)).body, 'tickcast_feed_stale')).toBe(0);
  });
});
