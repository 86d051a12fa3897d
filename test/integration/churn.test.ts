/**
 * Connection churn leaves nothing behind: 500 connect/subscribe/disconnect cycles, half of them
 * dropping the TCP socket without a close frame, while ticks flow.
 */
import type { Socket } from 'node:net';
import { ALICE, BOB, type Env, startEnv } from '../helpers/proxy';
import { scopes, sleep, until } from '../helpers/scope';
import { ltpTick } from '../helpers/ticks';
import { marketData, ofType, type TestClient } from '../helpers/wsClient';

const { each } = scopes();
// Hundreds of sockets on a shared machine: far beyond Jest's 5 s default when CPUs are busy.
jest.setTimeout(30_000);

const CYCLES = 500;
const WORKERS = 10;
const POOL = Array.from({ length: 20 }, (_, i) => `CHURN${i}`);

/** How cycle `i` ends: a clean close, ws.terminate(), or destroying the TCP socket under it. */
async function end(client: TestClient, i: number): Promise<void> {
  switch (i % 4) {
    case 1:
      return client.terminate();
    case 3:
      (client.ws as unknown as { _socket: Socket })._socket.destroy();
      await client.closed;
      return;
    default:
      return client.close();
  }
}

/** One cycle: connect, (mostly) authenticate and subscribe, sometimes to orders too, then leave. */
async function cycle(env: Env, i: number): Promise<void> {
  const client = await env.connect(each);
  if (i % 10 !== 9) {
    const reply = await client.request({ action: 'authenticate', api_key: (i % 2 ? BOB : ALICE).key }, ofType('auth'));
    expect(reply['status']).toBe('success');
    const symbols = [0, 7, 13].map((k) => ({ symbol: POOL[(i + k) % POOL.length], exchange: 'NSE' }));
    const sub = await client.request({ action: 'subscribe', symbols, mode: (i % 3) + 1 }, ofType('subscribe'));
    expect(sub['status']).toBe('success');
    if (i % 5 === 0) {
      await client.request({ action: 'subscribe', symbols: symbols.slice(0, 1), mode: 3 }, ofType('subscribe'));
      await client.request({ action: 'subscribe_orders' }, ofType('subscribe_orders'));
    }
  }
  await end(client, i);
}

describe('connection churn', () => {
  it('leaves no clients, subscriptions or held symbols after 500 cycles, half of them dropped uncleanly', async () => {
    const env = await startEnv(each, { throttleMs: 20 });
    let ticking = true;
    const ticker = (async () => {
      for (let n = 0; ticking; n++) {
        await env.publish(`NSE_${POOL[n % POOL.length]}_LTP`, ltpTick(n));
        await env.publish('zerodha_alice_orders', { user_id: 'alice', orderid: String(n) });
        await sleep(2);
      }
    })();

    let next = 0;
    try {
      await Promise.all(
        Array.from({ length: WORKERS }, async () => {
          while (next < CYCLES) await cycle(env, next++);
        }),
      );
    } finally {
      ticking = false;
      await ticker;
    }

    const { hub, gateway } = env.proxy;
    await until(() => gateway.clientCount() === 0 && hub.stats().clients === 0, 'every connection to be gone', 10_000);
    expect(gateway.clientCount()).toBe(0);
    expect(hub.stats()).toMatchObject({ clients: 0, subscriptions: 0, heldSymbols: 0 });

    // And the proxy still serves.
    const client = await env.login(each);
    await client.request({ action: 'subscribe', symbol: POOL[0], exchange: 'NSE', mode: 1 }, ofType('subscribe'));
    client.discard(marketData(POOL[0]));
    await env.publish(`NSE_${POOL[0]}_LTP`, ltpTick(-1));
    expect((await client.next((m) => marketData(POOL[0])(m) && m['data']['ltp'] === -1))['mode']).toBe(1);
  });
});
