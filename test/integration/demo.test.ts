import { buildCli, CliProcess } from '../helpers/cliProcess';
import { Scope } from '../helpers/scope';
import { marketData, TestClient } from '../helpers/wsClient';

/**
 * The `npm start` entry point for real: `node dist/src/cli.js demo` (what the start script runs
 * after building), on free ports, read the way a newcomer reads it — from the printed lines.
 */
describe('tickcast demo', () => {
  const scope = new Scope();
  let demo: CliProcess;
  let wsUrl: string;
  let apiKey: string;
  let client: TestClient;

  beforeAll(async () => {
    buildCli();
    demo = scope.add(new CliProcess(['demo', '--port', '0', '--zmq-bind', 'tcp://127.0.0.1:*', '--stats-interval-s', '0']));
    const [, url] = await demo.waitFor(/^ {2}WebSocket URL: (ws:\/\/\S+)$/m);
    const [, key] = await demo.waitFor(/^ {2}API key: +([0-9a-f]{32})$/m);
    wsUrl = url!;
    apiKey = key!;
  }, 120_000);
  afterAll(() => scope.close());

  it('prints the dashboard URL, the WebSocket URL and a fresh API key', async () => {
    const [, dashboard] = await demo.waitFor(/^ {2}Dashboard: +(http:\/\/\S+)$/m);
    expect(dashboard).toBe(`${wsUrl.replace(/^ws:/, 'http:')}#key=${apiKey}`);
    expect(wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/);
    const other = scope.add(new CliProcess(['demo', '--port', '0', '--zmq-bind', 'tcp://127.0.0.1:*', '--stats-interval-s', '0']));
    const [, otherKey] = await other.waitFor(/^ {2}API key: +([0-9a-f]{32})$/m);
    expect(otherKey).not.toBe(apiKey);
    await other.close();
  }, 30_000);

  it('delivers simulated market_data over WebSocket to a client that authenticates with the printed key', async () => {
    client = scope.add(await TestClient.open(wsUrl));
    expect(await client.request({ action: 'authenticate', api_key: apiKey })).toMatchObject({ type: 'auth', status: 'success' });
    const reply = await client.request(
      {
        action: 'subscribe',
        symbols: [
          { symbol: 'RELIANCE', exchange: 'NSE' },
          { symbol: 'BTC_INR', exchange: 'CRYPTO' },
        ],
        mode: 'LTP',
      },
      (m) => m['type'] === 'subscribe',
    );
    expect(reply['status']).toBe('success');
    const tick = await client.next(marketData('RELIANCE'), 10_000);
    expect(tick).toMatchObject({ type: 'market_data', exchange: 'NSE', symbol: 'RELIANCE', mode: 1 });
    expect(typeof tick['data']['ltp']).toBe('number');
    expect(tick['data']['ltp'] * 20).toBeCloseTo(Math.round(tick['data']['ltp'] * 20), 6);
    const crypto = await client.next(marketData('BTC_INR'), 10_000);
    expect(crypto).toMatchObject({ exchange: 'CRYPTO', symbol: 'BTC_INR', mode: 1 });
  }, 30_000);

  it('logs JSON lines (stdout is not a terminal) and never the API key', () => {
    const lines = demo.logLines();
    expect(lines.some((l) => l['event'] === 'listening' && l['wsUrl'] === wsUrl)).toBe(true);
    expect(lines.some((l) => l['component'] === 'sim' && l['msg'] === 'simulator publishing')).toBe(true);
    expect(demo.stdout.split('\n').filter((l) => l.includes(apiKey))).toEqual([
      `  Dashboard:     ${wsUrl.replace(/^ws:/, 'http:')}#key=${apiKey}`,
      `  API key:       ${apiKey}`,
    ]);
  });

  it('cuts its clients without a close frame (so they reconnect) and exits 0 on SIGTERM', async () => {
    demo.kill('SIGTERM');
    expect(await client.closed).toEqual({ code: 1006, reason: '' });
    expect(await demo.exited).toEqual({ code: 0, signal: null });
    expect(demo.logLines().some((l) => l['msg'] === 'stopped')).toBe(true);
    expect(demo.stderr).toBe('');
  }, 10_000);
});
