import { Subscriber } from 'zeromq';
import { parseTopic } from '../streams';
import { Market, type MarketOptions, SimPublisher } from '../src/sim';

const OPTIONS: MarketOptions = { symbols: 5, rate: 50, burst: false, depthLevels: 5, unsortedRatio: 0.5, seed: 7 };

/**
 * Runs `body` with a SUB bound on a free loopback port (as the proxy binds) and a SimPublisher
 * connected to it; closes both afterwards. Sockets are made inside the test, not in hooks, so Jest's
 * open-handle check sees them released.
 */
async function withFeed(options: MarketOptions, body: (sub: Subscriber, publisher: SimPublisher) => Promise<void>): Promise<void> {
  const sub = new Subscriber({ linger: 0 });
  sub.subscribe();
  await sub.bind('tcp://127.0.0.1:*');
  const publisher = new SimPublisher(new Market(options), { connect: sub.lastEndpoint as string });
  try {
    await body(sub, publisher);
  } finally {
    await publisher.close();
    sub.close();
  }
}

describe('SimPublisher', () => {
  it('connects a PUB to a bound SUB, as a broker adapter does, and sends two-frame [topic, JSON] messages', () =>
    withFeed(OPTIONS, async (sub, publisher) => {
      publisher.start();
      const received: Buffer[][] = [];
      while (received.length < 200) received.push(await sub.receive());
      for (const frames of received) {
        expect(frames).toHaveLength(2);
        const key = parseTopic(frames[0]!.toString('utf8'));
        expect(key).not.toBeNull();
        const payload = JSON.parse(frames[1]!.toString('utf8')) as Record<string, unknown>;
        expect([payload['exchange'], payload['symbol'], payload['mode']]).toEqual([key!.exchange, key!.symbol, key!.mode]);
      }
      const symbols = new Set(received.map((f) => parseTopic(f[0]!.toString('utf8'))!.symbol));
      expect([...symbols].sort()).toEqual(['BTC_INR', 'INFY', 'NIFTY', 'RELIANCE', 'TCS']);
      expect(publisher.sent).toBeGreaterThanOrEqual(200);
    }));

  it('stops sending once closed', () =>
    withFeed({ ...OPTIONS, symbols: 3, rate: 100 }, async (sub, publisher) => {
      publisher.start();
      await sub.receive();
      await publisher.close();
      const sent = publisher.sent;
      await new Promise((r) => setTimeout(r, 50));
      expect(publisher.sent).toBe(sent);
    }));
});
