import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AdapterStatus } from '../src/gateway/types';
import { type MetricsSources, ProxyMetrics, throttledTicks } from '../src/metrics';
import { Stats } from '../src/stats';
import { parseExposition } from './helpers/metrics';

function sources(stats: Stats, over: Partial<MetricsSources> = {}): MetricsSources {
  return {
    stats,
    hubStats: () => ({ subscriptions: 7, keys: 12, heldSymbols: 3 }),
    keyLifecycle: () => ({ maxKeys: 250_000, evicted: { idle: 5, cap: 9 } }),
    clientCount: () => 4,
    adapterStatus: () => 'connected',
    feedUp: () => true,
    draining: () => false,
    ...over,
  };
}

describe('ProxyMetrics', () => {
  it('reads the plain counters at scrape time, by mode and by fixed reasons', async () => {
    const stats = new Stats();
    const metrics = new ProxyMetrics(sources(stats), { defaultMetrics: false });
    stats.ticksIn[1] = 10;
    stats.ticksIn[2] = 5;
    stats.ticksIn[3] = 2;
    stats.received = 19;
    stats.ticksOut = 9;
    stats.feedDropped.json = 1;
    stats.feedDropped.frames = 2;
    stats.framesSent = 30;
    stats.bytesSent = 4567;
    stats.conflated = 6;
    stats.disconnects.slow = 1;
    stats.disconnects.authTimeout = 2;
    stats.authFailures = 3;
    stats.rateLimited = 8;
    stats.connectionsTotal = 5;
    stats.feedRejected.oversized = 2;
    stats.feedUnsubscribed = 4;
    stats.feedPublishers = 3;
    const m = parseExposition(await metrics.text());
    expect(Object.fromEntries(m)).toEqual({
      'tickcast_ticks_received_total{mode="ltp"}': 10,
      'tickcast_ticks_received_total{mode="quote"}': 5,
      'tickcast_ticks_received_total{mode="depth"}': 2,
      tickcast_feed_messages_total: 19,
      tickcast_ticks_delivered_total: 9,
      // 17 in − 9 out − 1 that failed to decode after the throttle
      tickcast_ticks_throttled_total: 7,
      'tickcast_feed_malformed_total{reason="frames"}': 2,
      'tickcast_feed_malformed_total{reason="topic"}': 0,
      'tickcast_feed_malformed_total{reason="encoding"}': 0,
      'tickcast_feed_malformed_total{reason="json"}': 1,
      'tickcast_feed_malformed_total{reason="not_object"}': 0,
      'tickcast_feed_malformed_total{reason="error"}': 0,
      'tickcast_feed_connections_rejected_total{reason="signature"}': 0,
      'tickcast_feed_connections_rejected_total{reason="version"}': 0,
      'tickcast_feed_connections_rejected_total{reason="mechanism"}': 0,
      'tickcast_feed_connections_rejected_total{reason="handshake"}': 0,
      'tickcast_feed_connections_rejected_total{reason="socket_type"}': 0,
      'tickcast_feed_connections_rejected_total{reason="framing"}': 0,
      'tickcast_feed_connections_rejected_total{reason="oversized"}': 2,
      'tickcast_feed_connections_rejected_total{reason="peer_error"}': 0,
      'tickcast_feed_connections_rejected_total{reason="timeout"}': 0,
      'tickcast_feed_connections_rejected_total{reason="too_many_publishers"}': 0,
      'tickcast_feed_connections_rejected_total{reason="partial_bytes"}': 0,
      tickcast_feed_unsubscribed_total: 4,
      tickcast_orders_relayed_total: 0,
      tickcast_frames_sent_total: 30,
      tickcast_bytes_sent_total: 4567,
      tickcast_slow_client_conflations_total: 6,
      'tickcast_disconnects_total{reason="slow"}': 1,
      'tickcast_disconnects_total{reason="flood"}': 0,
      'tickcast_disconnects_total{reason="oversize"}': 0,
      'tickcast_disconnects_total{reason="auth_timeout"}': 2,
      'tickcast_disconnects_total{reason="heartbeat"}': 0,
      'tickcast_disconnects_total{reason="refused"}': 0,
      tickcast_connections_total: 5,
      tickcast_auth_failures_total: 3,
      tickcast_rate_limited_total: 8,
      tickcast_clients: 4,
      tickcast_subscriptions: 7,
      tickcast_symbols_held: 3,
      tickcast_keys: 12,
      tickcast_keys_max: 250_000,
      'tickcast_key_evictions_total{reason="idle"}': 5,
      'tickcast_key_evictions_total{reason="cap"}': 9,
      tickcast_feed_up: 1,
      tickcast_feed_partial_bytes: 0,
      tickcast_feed_publishers: 3,
      tickcast_feed_stale: 0,
      tickcast_draining: 0,
      'tickcast_adapter_status{status="connected"}': 1,
      'tickcast_adapter_status{status="stale"}': 0,
      'tickcast_adapter_status{status="disconnected"}': 0,
    });

    stats.ticksIn[1] = 11;
    stats.framesSent = 31;
    const again = parseExposition(await metrics.text());
    expect(again.get('tickcast_ticks_received_total{mode="ltp"}')).toBe(11);
    expect(again.get('tickcast_frames_sent_total')).toBe(31);
  });

  it('types counters as counters and gauges as gauges', async () => {
    const text = await new ProxyMetrics(sources(new Stats()), { defaultMetrics: false }).text();
    expect(text).toContain('# TYPE tickcast_ticks_received_total counter');
    expect(text).toContain('# TYPE tickcast_frames_sent_total counter');
    expect(text).toContain('# TYPE tickcast_clients gauge');
    expect(text).toContain('# TYPE tickcast_feed_stale gauge');
  });

  it('reports a stale feed as a 0/1 gauge and as the adapter status', async () => {
    let status: AdapterStatus = 'stale';
    const metrics = new ProxyMetrics(sources(new Stats(), { adapterStatus: () => status, feedUp: () => false, draining: () => true }), {
      defaultMetrics: false,
    });
    let m = parseExposition(await metrics.text());
    expect([
      m.get('tickcast_feed_stale'),
      m.get('tickcast_adapter_status{status="stale"}'),
      m.get('tickcast_adapter_status{status="connected"}'),
    ]).toEqual([1, 1, 0]);
    expect([m.get('tickcast_feed_up'), m.get('tickcast_draining')]).toEqual([0, 1]);
    status = 'disconnected';
    m = parseExposition(await metrics.text());
    expect([m.get('tickcast_feed_stale'), m.get('tickcast_adapter_status{status="disconnected"}')]).toEqual([0, 1]);
  });

  it('keeps several proxies in one process apart, and appends process metrics with event-loop delay', async () => {
    const a = new Stats();
    const b = new Stats();
    a.framesSent = 1;
    b.framesSent = 2;
    const ma = new ProxyMetrics(sources(a));
    const mb = new ProxyMetrics(sources(b));
    const [ta, tb] = [parseExposition(await ma.text()), parseExposition(await mb.text())];
    expect([ta.get('tickcast_frames_sent_total'), tb.get('tickcast_frames_sent_total')]).toEqual([1, 2]);
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
    ]) {
      expect(ta.has(name)).toBe(true);
      expect(tb.has(name)).toBe(true);
    }
  });

  it('uses only fixed label values', async () => {
    const text = await new ProxyMetrics(sources(new Stats()), { defaultMetrics: false }).text();
    const labels = new Set([...text.matchAll(/\{([^}]*)\}/g)].map((match) => match[1]));
    expect([...labels].sort()).toEqual(
      [
        'mode="ltp"',
        'mode="quote"',
        'mode="depth"',
        'reason="frames"',
        'reason="topic"',
        'reason="encoding"',
        'reason="json"',
        'reason="not_object"',
        'reason="error"',
        'reason="slow"',
        'reason="flood"',
        'reason="oversize"',
        'reason="auth_timeout"',
        'reason="heartbeat"',
        'reason="refused"',
        'reason="idle"',
        'reason="cap"',
        'status="connected"',
        'status="stale"',
        'status="disconnected"',
        'reason="signature"',
        'reason="version"',
        'reason="mechanism"',
        'reason="handshake"',
        'reason="socket_type"',
        'reason="framing"',
        'reason="oversized"',
        'reason="peer_error"',
        'reason="timeout"',
        'reason="too_many_publishers"',
        'reason="partial_bytes"',
      ].sort(),
    );
  });
});

describe('docs/operations.md', () => {
  it('documents every tickcast_ metric', async () => {
    const doc = readFileSync(join(__dirname, '..', 'docs', 'operations.md'), 'utf8');
    const text = await new ProxyMetrics(sources(new Stats()), { defaultMetrics: false }).text();
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
    expect(names).toEqual([
      'tickcast_ticks_received_total',
      'tickcast_feed_messages_total',
      'tickcast_ticks_delivered_total',
      'tickcast_ticks_throttled_total',
      'tickcast_feed_malformed_total',
      'tickcast_feed_connections_rejected_total',
      'tickcast_feed_unsubscribed_total',
      'tickcast_orders_relayed_total',
      'tickcast_frames_sent_total',
      'tickcast_bytes_sent_total',
      'tickcast_slow_client_conflations_total',
      'tickcast_disconnects_total',
      'tickcast_connections_total',
      'tickcast_auth_failures_total',
      'tickcast_rate_limited_total',
      'tickcast_clients',
      'tickcast_subscriptions',
      'tickcast_symbols_held',
      'tickcast_keys',
      'tickcast_keys_max',
      'tickcast_key_evictions_total',
      'tickcast_feed_up',
      'tickcast_feed_partial_bytes',
      'tickcast_feed_publishers',
      'tickcast_feed_stale',
      'tickcast_draining',
      'tickcast_adapter_status',
    ]);
    for (const name of names) expect(doc).toContain(`| \`${name}\` |`);
  });
});

describe('throttledTicks', () => {
  it('is ticks in − ticks out − ticks that failed to decode, and never goes down', () => {
    const stats = new Stats();
    stats.ticksIn[1] = 5;
    stats.ticksOut = 1;
    expect(throttledTicks(stats)).toBe(4);
    // The window closes: the pending tick goes out after all.
    stats.ticksOut = 2;
    expect(throttledTicks(stats, 4)).toBe(4);
    stats.ticksIn[1] = 9;
    stats.feedDropped.not_object = 1;
    expect(throttledTicks(stats, 4)).toBe(6);
  });
});
