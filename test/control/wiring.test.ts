/**
 * How `serve --control` wires the control client into the proxy (src/control/wiring.ts): local keys
 * first, local users never sent to the host, per-user adapter status, OpenAlgo's CACHE_INVALIDATE
 * payloads, and the control metrics as /metrics and docs/operations.md show them. The host here is
 * absent (nothing binds the endpoint): what a client sees while the feed host is down.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildServeConfig, ConfigError, defaultServeConfig, parseArgs, resolveOptions, SERVE_OPTIONS } from '../../src/config';
import { ControlClient, type ControlError, controlHooks, FEED_HOST_UNAVAILABLE, parseInvalidation } from '../../src/control';
import { type ControlMetrics, ProxyMetrics } from '../../src/metrics';
import { Stats } from '../../src/stats';
import { silentLogger } from '../../src/logger';
import { freePort } from '../helpers/feed';
import { scopes } from '../helpers/scope';

const { each } = scopes();

describe('parseInvalidation', () => {
  it.each([
    ['{"action":"invalidate","user_id":"alice","cache_type":"ALL"}', { userId: 'alice', cacheType: 'ALL' }],
    ['{"action":"invalidate","user_id":"alice","cache_type":"FEED"}', { userId: 'alice', cacheType: 'FEED' }],
    ['{"user_id":"bob","cache_type":"AUTH"}', { userId: 'bob', cacheType: 'AUTH' }],
    ['{"user_id":"bob"}', { userId: 'bob', cacheType: 'ALL' }],
    ['{"user_id":"bob","cache_type":"EVERYTHING"}', { userId: 'bob', cacheType: 'ALL' }],
  ])("reads OpenAlgo's payload %s", (payload, expected) => {
    expect(parseInvalidation(payload)).toEqual(expected);
    expect(parseInvalidation(Buffer.from(payload))).toEqual(expected);
  });

  it.each([
    ['an empty payload', ''],
    ['not JSON', 'not json'],
    ['an array', '[]'],
    ['null', 'null'],
    ['a string', '"alice"'],
    ['an empty user_id', '{"user_id":""}'],
    ['a numeric user_id', '{"user_id":7}'],
    ['no user_id', '{"cache_type":"ALL"}'],
    ['a payload over 4 KiB', `{"user_id":"${'u'.repeat(5000)}"}`],
  ])('names no user for %s', (_what, payload) => {
    expect(parseInvalidation(payload)).toBeUndefined();
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        (bytes) => parseInvalidation(bytes) === undefined || typeof parseInvalidation(bytes)?.userId === 'string',
      ),
    );
  });
});

describe('controlHooks with the feed host down', () => {
  async function hooks(localKeys = [{ key: 'local-key-1', userId: 'ops', broker: 'zerodha' }]) {
    const control = each.add(
      new ControlClient({ endpoint: `tcp://127.0.0.1:${await freePort()}`, timeoutMs: 1000, healthIntervalMs: 60_000 }),
    );
    const subscribed: string[][] = [];
    const h = controlHooks(control, {
      localKeys,
      frameBroker: 'zerodha',
      subscribeTopics: (t) => subscribed.push([...t]),
      logger: silentLogger(),
    });
    return { control, h, subscribed };
  }

  it('answers a local --api-key key without asking the host, and takes its user’s subscriptions as without --control', async () => {
    const { h, control } = await hooks();
    expect(await h.verifier.verify('local-key-1')).toEqual({ userId: 'ops', broker: 'zerodha' });
    expect(
      await h.upstream.subscribe({ userId: 'ops', broker: 'zerodha' }, [{ exchange: 'NSE', symbol: 'INFY', mode: 1, depth: 5 }]),
    ).toEqual([{ ok: true }]);
    h.upstream.unsubscribe({ userId: 'ops', broker: 'zerodha' }, [{ exchange: 'NSE', symbol: 'INFY', mode: 1, depth: 5 }]);
    expect(control.counters.requests).toBe(0);
    expect(h.adapterStatus({ userId: 'ops', broker: 'zerodha' }, 'stale')).toBe('stale');
  });

  it('rejects any other key with FEED_HOST_UNAVAILABLE, fails its subscriptions with that code, and shows its adapter disconnected', async () => {
    const { h } = await hooks([]);
    const err = (await Promise.resolve(h.verifier.verify('some-openalgo-key')).catch((e: unknown) => e)) as ControlError;
    expect([err.code, err.message]).toEqual([FEED_HOST_UNAVAILABLE, 'feed host is not connected']);
    const alice = { userId: 'alice', broker: 'zerodha' };
    expect(await h.upstream.subscribe(alice, [{ exchange: 'NSE', symbol: 'INFY', mode: 1, depth: 5 }])).toEqual([
      { ok: false, code: FEED_HOST_UNAVAILABLE, message: 'feed host is not connected' },
    ]);
    expect(h.adapterStatus(alice, 'connected')).toBe('disconnected');
  });

  it('passes CACHE_INVALIDATE payloads naming a user to the host and counts the others; other ignored topics are not its business', async () => {
    const { h, control } = await hooks();
    h.onIgnored('CACHE_INVALIDATE_ALL_alice', Buffer.from('{"action":"invalidate","user_id":"alice","cache_type":"ALL"}'));
    h.onIgnored('CACHE_INVALIDATE_ALL_alice', Buffer.from('{"cache_type":"ALL"}'));
    h.onIgnored('CACHE_INVALIDATE_FEED_bob', 'not json');
    h.onIgnored('ZERODHA_alice_positions', Buffer.from('{"user_id":"alice"}'));
    expect([h.metrics().invalidations, h.metrics().invalidationsMalformed, control.counters.requests]).toEqual([1, 2, 1]);
  });
});

describe('control metrics', () => {
  const figures: ControlMetrics = {
    requests: 41,
    failures: 3,
    dropped: 1,
    resends: 2,
    heldKeys: 17,
    state: 'down',
    invalidations: 5,
    invalidationsMalformed: 4,
  };
  const proxyMetrics = (): ProxyMetrics =>
    new ProxyMetrics(
      {
        stats: new Stats(),
        hubStats: () => ({ subscriptions: 0, keys: 0, heldSymbols: 0 }),
        keyLifecycle: () => ({ maxKeys: 1, evicted: { idle: 0, cap: 0 } }),
        clientCount: () => 0,
        adapterStatus: () => 'connected',
        feedUp: () => true,
        draining: () => false,
        control: () => figures,
      },
      { defaultMetrics: false },
    );
  const controlLines = async (): Promise<string[]> =>
    (await proxyMetrics().text()).split('\n').filter((l) => l.startsWith('tickcast_control_'));

  it('shows the control channel’s figures read at scrape time', async () => {
    expect(await controlLines()).toEqual([
      'tickcast_control_requests_total 41',
      'tickcast_control_failures_total 3',
      'tickcast_control_replies_dropped_total 1',
      'tickcast_control_resends_total 2',
      'tickcast_control_invalidations_total 5',
      'tickcast_control_invalidations_malformed_total 4',
      'tickcast_control_held_keys 17',
      'tickcast_control_host_up 0',
      'tickcast_control_host_state{state="unknown"} 0',
      'tickcast_control_host_state{state="up"} 0',
      'tickcast_control_host_state{state="down"} 1',
    ]);
  });

  it('are each documented in docs/operations.md', async () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
    const names = [...new Set((await controlLines()).map((l) => l.split(/[ {]/)[0] as string))];
    expect(names.length).toBe(9);
    for (const name of names) expect(doc).toContain(`| \`${name}\` |`);
  });
});

describe('serve --control configuration', () => {
  const build = (argv: string[], env: Record<string, string> = {}) =>
    buildServeConfig(resolveOptions(SERVE_OPTIONS, parseArgs(argv, SERVE_OPTIONS).raw, env), []);

  it('needs no --api-key with --control, and takes its timeouts from flags or env', () => {
    const c = build(['--control', 'tcp://127.0.0.1:5556', '--control-timeout-ms', '60000'], { TICKCAST_CONTROL_HEALTH_INTERVAL_MS: '500' });
    expect([c.control, c.controlTimeoutMs, c.controlHealthIntervalMs, c.apiKeys]).toEqual(['tcp://127.0.0.1:5556', 60000, 500, []]);
    expect(build([], { TICKCAST_CONTROL: 'ipc:///run/tickcast-host' }).control).toBe('ipc:///run/tickcast-host');
  });

  it('defaults to no feed host, a 5 s timeout and a 2 s health poll', () => {
    const c = defaultServeConfig({ apiKeys: [{ key: 'k', userId: 'u', broker: 'b' }] });
    expect([c.control, c.controlTimeoutMs, c.controlHealthIntervalMs]).toEqual([undefined, 5000, 2000]);
    expect(defaultServeConfig({ apiKeys: [], control: 'tcp://127.0.0.1:5556' }).control).toBe('tcp://127.0.0.1:5556');
  });

  it('without --control still needs a key, and says --control is the other way', () => {
    expect(() => build([])).toThrow(
      new ConfigError(
        'No API key configured: clients could not authenticate. Add one with --api-key KEY[:USER[:BROKER]], ' +
          '--api-keys-file FILE, or TICKCAST_API_KEYS=KEY1,KEY2, or verify keys through a feed host with --control ENDPOINT.',
      ),
    );
  });

  it.each(['tcp://127.0.0.1', 'http://127.0.0.1:5556', 'inproc://host'])(
    'refuses --control %s, saying what an endpoint looks like',
    (endpoint) => {
      expect(() => build(['--control', endpoint])).toThrow(
        new ConfigError(
          `--control "${endpoint}" is not an endpoint a feed host can bind: use tcp://HOST:PORT (e.g. tcp://127.0.0.1:5556) or ipc://PATH.`,
        ),
      );
    },
  );

  it('refuses a timeout under 100 ms', () => {
    expect(() => build(['--control', 'tcp://127.0.0.1:5556', '--control-timeout-ms', '10'])).toThrow(
      new ConfigError('--control-timeout-ms (env TICKCAST_CONTROL_TIMEOUT_MS) must be at least 100, got 10.'),
    );
  });
});
