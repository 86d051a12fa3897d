/**
 * Issue 7, connection churn: 2,000 connect → authenticate → subscribe → disconnect cycles against
 * a proxy in its own process while ticks flow, half of them ended abruptly (socket destroyed, no
 * close frame). Afterwards the index is empty, no client is left, the proxy's heap after a full
 * GC is within 10% of where it started, and it holds exactly as many file descriptors.
 */
import WebSocket from 'ws';
import { FeedPublisher } from '../helpers/feed';
import { ALICE, BOB } from '../helpers/proxy';
import { Scope, until } from '../helpers/scope';
import { bookTick, quoteTick } from '../helpers/ticks';
import { ChildProxy } from '../helpers/childProxy';

const CYCLES = 2000;
/**
 * Cycles before the heap is first measured. The first thousands of connections grow the heap by
 * about 10% once (compiled code, inline caches, ws and Buffer pools) and it then levels off
 * (measured: 8.0 MB after 200, 8.8 after 2,200, then 8.9–9.3 MB up to 10,200), so the baseline is
 * taken after that.
 */
const WARMUP = 2000;
const PARALLEL = 16;
/** Symbols the feed carries during the churn (their entries and keys stay, for snapshots). */
const FED = ['CHURN_A', 'CHURN_B', 'CHURN_C'];

const suite = new Scope();
afterAll(() => suite.close());

/** Resolves with the next text frame that satisfies `match`. */
function nextFrame(ws: WebSocket, match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: Buffer): void => {
      const m = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      if (!match(m)) return;
      ws.off('message', onMessage);
      ws.off('close', onClose);
      resolve(m);
    };
    const onClose = (code: number): void => reject(new Error(`closed with ${code} mid-cycle`));
    ws.on('message', onMessage);
    ws.once('close', onClose);
  });
}

/** One connection's life: authenticate, subscribe to a fed and an unfed symbol, orders, leave. */
async function cycle(url: string, i: number): Promise<void> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ action: 'authenticate', api_key: i % 3 === 0 ? BOB.key : ALICE.key }));
  await nextFrame(ws, (m) => m['type'] === 'auth');
  ws.send(
    JSON.stringify({
      action: 'subscribe',
      symbols: [
        { symbol: FED[i % FED.length], exchange: 'NSE' },
        { symbol: `ONCE${i}`, exchange: 'NSE' },
      ],
      mode: (i % 3) + 1,
    }),
  );
  await nextFrame(ws, (m) => m['type'] === 'subscribe');
  if (i % 4 === 0) {
    ws.send(JSON.stringify({ action: 'subscribe_orders' }));
    await nextFrame(ws, (m) => m['type'] === 'subscribe_orders');
  }
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  // Half leave abruptly: the TCP socket is destroyed, no close frame is sent.
  if (i % 2 === 0) ws.close(1000);
  else ws.terminate();
  await closed;
}

async function churn(url: string, from: number, count: number): Promise<void> {
  let next = from;
  const end = from + count;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < end) await cycle(url, next++);
    }),
  );
}

describe('connection churn', () => {
  it(`leaves no client, subscription, heap growth or descriptor behind after ${CYCLES} cycles, half abrupt`, async () => {
    const proxy = suite.add(await ChildProxy.spawn({ throttleMs: 20 }));
    const pub = suite.add(new FeedPublisher(proxy.zmq));
    await until(async () => {
      await pub.send(`NSE_${FED[0]}_LTP`, { ltp: 1 });
      return (await proxy.measure()).received > 0;
    }, 'the publisher to reach the proxy');
    let feeding = true;
    let n = 0;
    const feeder = (async () => {
      while (feeding) {
        n++;
        for (const s of FED) {
          await pub.send(`NSE_${s}_LTP`, { ltp: n });
          await pub.send(`NSE_${s}_QUOTE`, quoteTick(n));
          await pub.send(`NSE_${s}_DEPTH`, bookTick(n, 20));
        }
        await pub.send(`ZERODHA_${ALICE.userId}_orders`, { user_id: ALICE.userId, order_id: `o${n}` });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    await churn(proxy.wsUrl, 0, WARMUP);
    await until(async () => (await proxy.measure()).clients === 0, 'the warm-up connections to be gone');
    const start = await proxy.measure();

    await churn(proxy.wsUrl, WARMUP, CYCLES);
    feeding = false;
    await feeder;
    await until(async () => (await proxy.measure()).clients === 0, 'every connection to be gone', 10_000);
    const end = await proxy.measure();

    expect(end.connectionsTotal).toBe(WARMUP + CYCLES);
    expect(end.clients).toBe(0);
    expect(end.hub).toStrictEqual({ clients: 0, subscriptions: 0, symbols: FED.length, heldSymbols: 0, keys: FED.length * 3 });
    expect(end.fds).toBe(start.fds);
    expect(end.heapUsed).toBeLessThanOrEqual(start.heapUsed * 1.1);
    if (process.env['TICKCAST_REPORT']) {
      console.log({
        ticks: n,
        heapStart: start.heapUsed,
        heapEnd: end.heapUsed,
        fdsStart: start.fds,
        fdsEnd: end.fds,
        rssEnd: end.rss,
        disconnects: end.disconnects,
      });
    }
  }, 180_000);
});
