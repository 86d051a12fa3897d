import { Subscriber } from 'zeromq';
import { parseTopic } from '../streams';
import { buildCli, CliProcess } from './helpers/cliProcess';

describe('tickcast sim (the built bin)', () => {
  let sim: CliProcess | undefined;
  beforeAll(() => buildCli(), 120_000);
  afterAll(() => sim?.close());

  it('connects its PUB to the endpoint from TICKCAST_SIM_ZMQ_CONNECT, publishes the chosen universe and exits 0 on SIGTERM', async () => {
    const sub = new Subscriber({ linger: 0 });
    sub.subscribe();
    await sub.bind('tcp://127.0.0.1:*');
    try {
      await expectSimFeeds(sub);
    } finally {
      sub.close();
    }
  }, 30_000);

  async function expectSimFeeds(sub: Subscriber): Promise<void> {
    sim = new CliProcess(['sim', '--symbols', '5', '--rate', '20', '--depth-levels', '20', '--seed', '3'], {
      TICKCAST_SIM_ZMQ_CONNECT: sub.lastEndpoint as string,
    });
    const topics = new Set<string>();
    let depth: Record<string, unknown> | undefined;
    while (topics.size < 15) {
      const [topic, payload] = await sub.receive();
      topics.add(topic!.toString());
      if (topic!.toString() === 'NSE_TCS_DEPTH') depth = JSON.parse(payload!.toString()) as Record<string, unknown>;
    }
    expect([...topics].map((t) => parseTopic(t)).every((k) => k !== null)).toBe(true);
    expect([...topics].sort()).toEqual(
      ['NSE_RELIANCE', 'NSE_TCS', 'NSE_INFY', 'NSE_INDEX_NIFTY', 'CRYPTO_BTC_INR']
        .flatMap((s) => [`${s}_LTP`, `${s}_QUOTE`, `${s}_DEPTH`])
        .sort(),
    );
    while (!depth) {
      const [topic, payload] = await sub.receive();
      if (topic!.toString() === 'NSE_TCS_DEPTH') depth = JSON.parse(payload!.toString()) as Record<string, unknown>;
    }
    expect((depth['depth'] as { buy: unknown[] }).buy).toHaveLength(20);

    sim.kill('SIGTERM');
    expect(await sim.exited).toEqual({ code: 0, signal: null });
    expect(sim.logLines().map((l) => l['msg'])).toEqual(expect.arrayContaining([`simulator publishing to ${sub.lastEndpoint}`, 'stopped']));
  }
});
