import { Writable } from 'node:stream';
import { main } from '../src/cli';
import { createLogger } from '../src/logger';
import { Stats } from '../src/stats';
import { startStatsLog, statsLine, timed, watchEventLoop } from '../src/statsLog';
import { Scope, until } from './helpers/scope';
import { TestClient } from './helpers/wsClient';

/** A stream that keeps everything written to it. */
class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  lines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

describe('stats log line', () => {
  const hub = { subscriptions: 0, keys: 0 };
  const sources = (stats: Stats) => ({ stats, hubStats: () => hub, clientCount: () => 2 });

  it('reports deltas since the previous line and the sizes now', () => {
    const stats = new Stats();
    let now = 1000;
    const next = statsLine(sources(stats), () => now);
    stats.ticksIn[1] = 50;
    stats.ticksIn[3] = 10;
    stats.ticksOut = 20;
    stats.framesSent = 40;
    stats.bytesSent = 4000;
    stats.feedDropped.topic = 3;
    hub.keys = 5;
    hub.subscriptions = 9;
    now = 11_000;
    expect(next()).toEqual({
      intervalS: 10,
      ticksIn: 60,
      ticksOut: 20,
      throttled: 40,
      framesSent: 40,
      bytesSent: 4000,
      dropped: 3,
      conflated: 0,
      clients: 2,
      keys: 5,
      subscriptions: 9,
    });
    stats.ticksIn[2] = 5;
    stats.ticksOut = 24;
    now = 21_000;
    expect(next()).toMatchObject({ ticksIn: 5, ticksOut: 4, throttled: 1, framesSent: 0, dropped: 0 });
  });

  it('logs one info line per interval and nothing when the interval is 0', () => {
    jest.useFakeTimers();
    try {
      const out = new Capture();
      const logger = createLogger({ level: 'info', destination: out });
      const stats = new Stats();
      const stop = startStatsLog(sources(stats), logger, 30);
      stats.ticksIn[1] = 7;
      jest.advanceTimersByTime(30_000);
      stats.ticksIn[1] = 10;
      jest.advanceTimersByTime(30_000);
      stop();
      jest.advanceTimersByTime(90_000);
      expect(out.lines().map((l) => [l['level'], l['event'], l['ticksIn']])).toEqual([
        [30, 'stats', 7],
        [30, 'stats', 3],
      ]);
      const none = new Capture();
      startStatsLog(sources(stats), createLogger({ destination: none }), 0)();
      jest.advanceTimersByTime(90_000);
      expect(none.text).toBe('');
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('slow operations', () => {
  it('are logged with their name and duration past the threshold, and not below it', async () => {
    const out = new Capture();
    const logger = createLogger({ level: 'info', destination: out });
    expect(await timed(logger, 'fast', () => 1, 60_000)).toBe(1);
    expect(out.text).toBe('');
    await expect(timed(logger, 'failing', () => Promise.reject(new Error('boom')), -1)).rejects.toThrow('boom');
    const [line] = out.lines();
    expect(line).toMatchObject({ level: 40, event: 'slow_operation', operation: 'failing' });
    expect(typeof line!['durationMs']).toBe('number');
  });

  it('include an event loop blocked past the threshold', async () => {
    const out = new Capture();
    const stop = watchEventLoop(createLogger({ level: 'info', destination: out }), 100, 10);
    await new Promise((resolve) => setTimeout(resolve, 15));
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // Block the loop on purpose.
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    stop();
    const blocked = out.lines().filter((l) => l['event'] === 'event_loop_blocked');
    expect(blocked.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...blocked.map((l) => l['durationMs'] as number))).toBeGreaterThan(100);
  });
});

describe('API keys in logs', () => {
  const scope = new Scope();
  afterEach(() => scope.close());

  it('never appear in the output of `tickcast serve` at debug level, whatever clients send', async () => {
    const KEY = 'sekrit-key-5b7e21a9';
    const WRONG = 'wrong-key-c0ffee77';
    const out = new Capture();
    let signal: ((s: NodeJS.Signals) => void) | undefined;
    const exited = main(
      [
        'serve',
        '--api-key',
        `${KEY}:alice:zerodha`,
        '--log-level',
        'debug',
        '--port',
        '0',
        '--zmq-bind',
        'tcp://127.0.0.1:*',
        '--shutdown-grace-ms',
        '200',
      ],
      {
        env: {},
        stdout: out,
        stderr: out,
        logDestination: out,
        onSignal: (handler) => {
          signal = handler;
          return () => undefined;
        },
        exit: (code) => {
          throw new Error(`exit(${code}) was not expected`);
        },
      },
    );
    await until(() => out.lines().some((l) => l['event'] === 'listening'), 'the listening line');
    const wsUrl = out.lines().find((l) => l['event'] === 'listening')!['wsUrl'] as string;

    const client = scope.add(await TestClient.open(wsUrl));
    expect(await client.request({ action: 'authenticate', api_key: WRONG })).toMatchObject({ code: 'AUTHENTICATION_ERROR' });
    expect(await client.request({ action: 'auth', apikey: KEY })).toMatchObject({ type: 'auth', status: 'success' });
    await client.request({ action: 'subscribe', symbol: 'TCS', exchange: 'NSE', mode: 1, api_key: KEY }, (m) => m['type'] === 'subscribe');
    client.sendRaw(`{"action":"authenticate","api_key":"${KEY}"`);
    await client.next((m) => m['code'] === 'INVALID_JSON');
    await client.close();

    signal!('SIGTERM');
    expect(await exited).toBe(0);
    expect(out.lines().some((l) => l['msg'] === 'authentication failed')).toBe(true);
    expect(out.lines().some((l) => l['msg'] === 'stopped')).toBe(true);
    expect(out.text).not.toContain(KEY);
    expect(out.text).not.toContain(WRONG);
  });

  it('are redacted when a component logs a config or a client message', () => {
    const out = new Capture();
    const logger = createLogger({ level: 'debug', destination: out });
    const apiKeys = [{ key: 'k-1234567890', userId: 'u', broker: 'b' }];
    logger.info({ config: { port: 1, apiKeys } }, 'config');
    logger.child({ component: 'gateway' }).debug({ msg: { action: 'authenticate', api_key: 'k-abcdef0123' } }, 'received');
    logger.info({ api_key: 'k-fedcba9876', apikey: 'k-1111111111' }, 'direct');
    expect(out.lines()).toHaveLength(3);
    for (const k of ['k-1234567890', 'k-abcdef0123', 'k-fedcba9876', 'k-1111111111']) expect(out.text).not.toContain(k);
  });
});
