/**
 * Scale-out over NATS when things die (issue 8): a node killed outright, nats-server killed and
 * restarted. Real processes: nats-server and one node (`tickcast serve --nats`) are spawned.
 */
import { get } from 'node:http';
import { buildCli, CliProcess } from '../helpers/cliProcess';
import { describeWithNats, loginTo, startNode, subscribeTo, useNatsSuite } from '../helpers/natsServer';
import { ALICE } from '../helpers/proxy';
import { until } from '../helpers/scope';
import { ltpTick } from '../helpers/ticks';
import { marketData, type Msg, TestClient } from '../helpers/wsClient';

jest.setTimeout(60_000);

/** The `ltp` of each market_data frame. */
const ltps = (frames: Msg[]): number[] => frames.filter(marketData()).map((f) => f['data']['ltp']);

/** The next `n` market_data frames' ltp values. */
async function nextLtps(client: TestClient, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await client.next(marketData(), 10_000))['data']['ltp']);
  return out;
}

/** The status code of `GET url`. */
function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describeWithNats('tickcast over NATS, when a process dies', () => {
  /** Quick reconnects, so an outage of a second or two is over in about as long. */
  const fast = { reconnectBaseMs: 50, reconnectMaxMs: 250 };
  beforeAll(() => buildCli());
  const env = useNatsSuite(fast);
  const { each } = env;

  it("keeps serving one node's clients when another node is killed", async () => {
    const nodeA = await startNode(each, env.server.url);
    const nodeB = each.add(
      new CliProcess([
        'serve',
        '--nats',
        env.server.url,
        '--port',
        '0',
        '--throttle-ms',
        '0',
        '--api-key',
        `${ALICE.key}:alice:zerodha`,
        '--stats-interval-s',
        '0',
      ]),
    );
    const [, wsUrl] = await nodeB.waitFor(/"wsUrl":"(ws:\/\/[^"]+)"/);
    const onA = await loginTo(each, nodeA);
    const onB = each.add(await TestClient.open(wsUrl as string));
    await onB.request({ action: 'authenticate', api_key: ALICE.key });
    await subscribeTo(onA, 'NSE', 'SBIN', 1);
    await subscribeTo(onB, 'NSE', 'SBIN', 1);
    await until(async () => {
      const subs = await env.server.monitor<{ num_subscriptions?: number; subscriptions_list?: { subject: string }[] }>('/subsz?subs=1');
      return (subs.subscriptions_list ?? []).filter((s) => s.subject === 'tickcast.md.NSE.SBIN.*').length === 2;
    }, 'both nodes to subscribe NSE SBIN');

    for (let i = 1; i <= 3; i++) await env.publisher.send('NSE_SBIN_LTP', ltpTick(i));
    expect(await nextLtps(onA, 3)).toEqual([1, 2, 3]);
    expect(await nextLtps(onB, 3)).toEqual([1, 2, 3]);

    nodeB.kill('SIGKILL');
    await onB.closed;
    for (let i = 4; i <= 8; i++) await env.publisher.send('NSE_SBIN_LTP', ltpTick(i));
    expect(await nextLtps(onA, 5)).toEqual([4, 5, 6, 7, 8]);
    expect(onA.isOpen).toBe(true);
    expect(nodeA.feed.isUp()).toBe(true);
  });

  it('reports the outage on /readyz while NATS is down, and resumes ticks when it is back', async () => {
    const node = await startNode(each, env.server.url, fast);
    const client = await loginTo(each, node);
    await subscribeTo(client, 'NSE', 'ITC', 1);
    await env.publisher.send('NSE_ITC_LTP', ltpTick(1));
    expect(await nextLtps(client, 1)).toEqual([1]);
    expect(await status(`${node.httpUrl}/readyz`)).toBe(200);

    await env.server.kill();
    await until(async () => (await status(`${node.httpUrl}/readyz`)) === 503, '/readyz to report the outage');
    await until(() => !env.bridge.isUp(), 'the bridge to notice the outage');
    // Ticks during the outage: the bridge keeps the latest per key and publishes it on reconnect.
    for (let i = 2; i <= 4; i++) await env.publisher.send('NSE_ITC_LTP', ltpTick(i));
    await until(() => env.bridge.counters.heldWhileDown >= 3, 'the bridge to keep the outage ticks');
    expect(await status(`${node.httpUrl}/readyz`)).toBe(503);
    expect(client.isOpen).toBe(true);

    await env.server.restart();
    await until(async () => (await status(`${node.httpUrl}/readyz`)) === 200, '/readyz to recover', 15_000);
    await until(() => env.bridge.isUp(), 'the bridge to reconnect', 15_000);
    // The latest outage tick arrives (from the bridge, or the node's re-read of the last values).
    await until(() => client.peek().some((m) => marketData()(m) && m['data']['ltp'] === 4), 'the last outage tick', 10_000);
    for (let i = 5; i <= 7; i++) await env.publisher.send('NSE_ITC_LTP', ltpTick(i));
    await until(() => client.peek().some((m) => marketData()(m) && m['data']['ltp'] === 7), 'ticks after the outage', 10_000);
    const after = ltps(client.drain());
    // Never an older price after a newer one. 2 and 3 were superseded while NATS was down; the
    // last price before the outage (1) may come once more, when the node re-reads the last values
    // before the bridge has published what it kept.
    expect(after).toEqual([...after].sort((a, b) => a - b));
    expect(after.filter((ltp) => ltp !== 1 && ltp !== 4)).toEqual([5, 6, 7]);
    expect(after.filter((ltp) => ltp === 1).length).toBeLessThanOrEqual(1);
    expect(after).toContain(4);
  });
});
