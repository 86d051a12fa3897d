import { Subscriber } from 'zeromq';
import { parseTopic } from '../streams';
import { Market, SimPublisher } from '../src/sim';

describe('SimPublisher', () => {
  let sub: Subscriber;
  let publisher: SimPublisher | undefined;

  beforeEach(async () => {
    sub = new Subscriber({ linger: 0 });
    sub.subscribe();
    await sub.bind('tcp://127.0.0.1:*');
  });

  afterEach(async () => {
    await publisher?.close();
    publisher = undefined;
    sub.close();
    // ZeroMQ releases a closed socket asynchronously; let it, so no handle outlives the test.
    await new Promise((resolve) => setTimeout(resolve, 20));
  });

  it('connects a PUB to a bound SUB, as a broker adapter does, and sends two-frame [topic, JSON] messages', async () => {
    publisher = new SimPublisher(new Market({ symbols: 5, rate: 50, burst: false, depthLevels: 5, unsortedRatio: 0.5, seed: 7 }), {
      connect: sub.lastEndpoint as string,
    });
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
  });

  it('stops sending once closed', async () => {
    publisher = new SimPublisher(new Market({ symbols: 3, rate: 100, burst: false, depthLevels: 5, unsortedRatio: 0, seed: 1 }), {
      connect: sub.lastEndpoint as string,
    });
    publisher.start();
    await sub.receive();
    await publisher.close();
    const sent = publisher.sent;
    await new Promise((r) => setTimeout(r, 50));
    expect(publisher.sent).toBe(sent);
  });
});
