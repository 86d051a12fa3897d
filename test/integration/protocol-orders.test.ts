/** protocol.md "Order updates": subscribe_orders / unsubscribe_orders and the per-user relay. */
import { ALICE, BOB, type Env, startEnv } from '../helpers/proxy';
import { scopes } from '../helpers/scope';
import { type Msg, ofType, type TestClient } from '../helpers/wsClient';

const { suite, each } = scopes();

let env: Env;
beforeAll(async () => {
  env = await startEnv(suite, { throttleMs: 0 });
});

/** A fenced client of `key`'s user, subscribed to order updates unless `orders` is false. */
async function trader(key = ALICE, orders = true): Promise<TestClient> {
  const client = await env.fenced(await env.login(each, key));
  if (orders) await client.request({ action: 'subscribe_orders' }, ofType('subscribe_orders'));
  return client;
}

const order = (userId: string, orderid: string): Msg => ({
  user_id: userId,
  orderid,
  symbol: 'RELIANCE',
  exchange: 'NSE',
  status: 'complete',
  quantity: 10,
});

describe('order updates', () => {
  it('answers subscribe_orders with the exact reply and echoes request_id', async () => {
    const client = await env.login(each);
    expect(await client.request({ action: 'subscribe_orders', request_id: 'r1' })).toStrictEqual({
      type: 'subscribe_orders',
      status: 'success',
      message: 'Subscribed to order updates',
      request_id: 'r1',
    });
    expect(await client.request({ action: 'subscribe_orders' })).toStrictEqual({
      type: 'subscribe_orders',
      status: 'success',
      message: 'Subscribed to order updates',
    });
  });

  it('answers unsubscribe_orders with the mirrored reply', async () => {
    const client = await env.login(each);
    const reply = await client.request({ action: 'unsubscribe_orders', request_id: 'r2' });
    expect(reply).toStrictEqual({
      type: 'unsubscribe_orders',
      status: 'success',
      message: 'Unsubscribed from order updates',
      request_id: 'r2',
    });
  });

  it('relays an order event verbatim, typed order_update, to the subscribed connections of its user only', async () => {
    const alice = await trader(ALICE);
    const aliceAgain = await trader(ALICE);
    const aliceQuiet = await trader(ALICE, false);
    const bob = await trader(BOB);

    await env.publish('zerodha_alice_orders', order('alice', 'A1'));
    await env.publish('ANALYZE_bob_orders', order('bob', 'B1'));
    const [a, a2, quiet, b] = await env.settle(alice, aliceAgain, aliceQuiet, bob);

    expect(a).toStrictEqual([{ type: 'order_update', ...order('alice', 'A1') }]);
    expect(a2).toStrictEqual([{ type: 'order_update', ...order('alice', 'A1') }]);
    expect(quiet).toStrictEqual([]);
    expect(b).toStrictEqual([{ type: 'order_update', ...order('bob', 'B1') }]);
  });

  it("routes by the payload's user_id, not the topic", async () => {
    const alice = await trader(ALICE);
    const bob = await trader(BOB);
    await env.publish('zerodha_alice_orders', order('bob', 'B2'));
    await env.publish('ANALYZE_bob_orders', order('alice', 'A2'));
    const [a, b] = await env.settle(alice, bob);
    expect(a).toStrictEqual([{ type: 'order_update', ...order('alice', 'A2') }]);
    expect(b).toStrictEqual([{ type: 'order_update', ...order('bob', 'B2') }]);
  });

  it("does not relay another user's events, even on a topic that names no connected user", async () => {
    const alice = await trader(ALICE);
    await env.publish('zerodha_carol_orders', order('carol', 'C1'));
    expect(await env.settle(alice)).toStrictEqual([[]]);
  });

  it('relays one copy per event to a connection that subscribed twice', async () => {
    const alice = await trader(ALICE);
    await alice.request({ action: 'subscribe_orders' }, ofType('subscribe_orders'));
    await env.publish('zerodha_alice_orders', order('alice', 'A6'));
    expect(await env.settle(alice)).toStrictEqual([[{ type: 'order_update', ...order('alice', 'A6') }]]);
  });

  it('stops relaying after unsubscribe_orders', async () => {
    const alice = await trader(ALICE);
    await env.publish('zerodha_alice_orders', order('alice', 'A3'));
    expect((await env.settle(alice))[0]).toStrictEqual([{ type: 'order_update', ...order('alice', 'A3') }]);
    await alice.request({ action: 'unsubscribe_orders' }, ofType('unsubscribe_orders'));
    await env.publish('zerodha_alice_orders', order('alice', 'A4'));
    expect(await env.settle(alice)).toStrictEqual([[]]);
  });

  it('never mistakes an order event for market data', async () => {
    const alice = await trader(ALICE);
    await alice.request({ action: 'subscribe', symbol: 'alice', exchange: 'zerodha', mode: 1 }, ofType('subscribe'));
    await env.publish('zerodha_alice_orders', order('alice', 'A5'));
    const [frames] = (await env.settle(alice)) as [Msg[]];
    expect(frames.map((f) => f['type'])).toStrictEqual(['order_update']);
  });
});
