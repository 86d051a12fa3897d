/**
 * `--zmq-subscribe interest` at the FeedSource level (interest()/orderInterest() called directly, as
 * the hub does), on both engines, against XPUB publishers of libzmq (the `zeromq` package) and of
 * pyzmq (Debian's python3-zmq, its own libzmq build; installed by scripts/ensure-pyzmq.sh): what
 * the XPUB sees for one holder, two holders, holders leaving, a late publisher and a feed restart,
 * and that the publisher filters at the source.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { XPublisher } from 'zeromq';
import type { RawTick } from '../../streams';
import { defaultServeConfig } from '../../src/config';
import { type FeedSource, zmqFeedSource } from '../../src/feed';
import type { ZmqEngine } from '../../src/ingest/zmq';
import { Stats } from '../../src/stats';
import { freePort } from '../helpers/net';
import { ALICE } from '../helpers/proxy';
import { ensurePyzmq } from '../helpers/pyzmq';
import { scopes, sleep, until } from '../helpers/scope';

jest.setTimeout(60_000);

const { each } = scopes();
const WAIT_MS = 15_000;
const GRACE_MS = 300;

const { pyzmq, runs: pyzmqRuns } = ensurePyzmq('feed-interest.test', 'the pyzmq XPUB cases');

/** An XPUB publisher: what it saw (`+topic` / `-topic`, in order) and a way to publish. */
interface Xpub {
  readonly events: string[];
  send(topic: string, payload: string): Promise<void>;
}

type XpubKind = 'libzmq' | 'pyzmq';

async function libzmqXpub(role: 'bind' | 'connect', endpoint: string): Promise<Xpub> {
  const x = new XPublisher({ linger: 0 });
  each.add({ close: () => x.close() });
  if (role === 'bind') await x.bind(endpoint);
  else x.connect(endpoint);
  const events: string[] = [];
  void (async () => {
    for await (const [msg] of x) events.push(`${msg![0] === 1 ? '+' : '-'}${msg!.subarray(1).toString()}`);
  })().catch(() => undefined);
  return { events, send: async (topic, payload) => void (await x.send([topic, payload])) };
}

const PY_XPUB = [
  'import os, sys, zmq',
  'ctx = zmq.Context()',
  'x = ctx.socket(zmq.XPUB)',
  'x.setsockopt(zmq.LINGER, 0)',
  "(x.bind if sys.argv[1] == 'bind' else x.connect)(sys.argv[2])",
  "print('ready', flush=True)",
  'poller = zmq.Poller()',
  'poller.register(x, zmq.POLLIN)',
  'poller.register(0, zmq.POLLIN)',
  "pending = b''",
  'while True:',
  '    for s, _ in poller.poll():',
  '        if s is x:',
  '            m = x.recv()',
  "            print(('+' if m[:1] == b'\\x01' else '-') + m[1:].decode(), flush=True)",
  '        else:',
  '            chunk = os.read(0, 65536)',
  '            if not chunk:',
  '                sys.exit(0)',
  '            pending += chunk',
  "            while b'\\n' in pending:",
  "                line, pending = pending.split(b'\\n', 1)",
  "                topic, payload = line.split(b' ', 1)",
  '                x.send_multipart([topic, payload])',
].join('\n');

async function pyXpub(role: 'bind' | 'connect', endpoint: string): Promise<Xpub> {
  if ('error' in pyzmq) throw new Error(pyzmq.error);
  const child: ChildProcess = spawn(pyzmq.python, ['-c', PY_XPUB, role, endpoint], { stdio: ['pipe', 'pipe', 'inherit'] });
  each.add({ close: () => child.kill() });
  const events: string[] = [];
  let ready = false;
  let rest = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    rest += s;
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') ready = true;
      else events.push(line);
    }
  });
  await until(() => ready, 'the pyzmq XPUB to start', WAIT_MS);
  return { events, send: async (topic, payload) => void child.stdin!.write(`${topic} ${payload}\n`) };
}

const xpubOf = (kind: XpubKind): ((role: 'bind' | 'connect', endpoint: string) => Promise<Xpub>) =>
  kind === 'libzmq' ? libzmqXpub : pyXpub;

interface Started {
  readonly feed: FeedSource;
  readonly stats: Stats;
  readonly ticks: RawTick[];
  stop(): void;
}

/** zmqFeedSource in interest mode, subscribed (started); stopped after the test. */
async function startSource(
  engine: ZmqEngine,
  where: { bind?: string; connect?: string },
  before?: (feed: FeedSource) => void,
): Promise<Started> {
  const config = defaultServeConfig({
    apiKeys: [ALICE],
    zmqEngine: engine,
    zmqSubscribe: 'interest',
    zmqInterestGraceMs: GRACE_MS,
    zmqBind: where.bind,
    zmqConnect: where.connect ? [where.connect] : [],
  });
  const stats = new Stats();
  const feed = zmqFeedSource(config, stats);
  before?.(feed);
  const ticks: RawTick[] = [];
  const sub = feed.raw$.subscribe((t) => ticks.push(t));
  const stop = (): void => sub.unsubscribe();
  each.add({ close: stop });
  await feed.ready();
  return { feed, stats, ticks, stop };
}

/** Waits until `events` holds exactly `expected` (as a set) after index `from`. */
async function sees(x: Xpub, from: number, expected: string[]): Promise<void> {
  const want = [...expected].sort();
  await until(
    () => x.events.length - from >= want.length,
    `the XPUB to see ${want.join(' ')} (saw ${x.events.slice(from).join(' ')})`,
    WAIT_MS,
    10,
  );
  expect(x.events.slice(from).sort()).toStrictEqual(want);
}

const ENGINES: ZmqEngine[] = ['zmtp', 'libzmq'];
const KINDS: XpubKind[] = pyzmqRuns ? ['libzmq', 'pyzmq'] : ['libzmq'];
const CASES = ENGINES.flatMap((engine) => KINDS.map((kind) => [engine, kind] as const));

describe.each(CASES)('interest subscriptions: %s engine, %s XPUB', (engine, kind) => {
  it('one holder, a second at a lower mode, holders leaving (after the grace), an order subscriber; never the empty subscription', async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const x = await xpubOf(kind)('bind', endpoint);
    const s = await startSource(engine, { connect: endpoint });
    await until(() => s.feed.isUp(), 'the feed to reach the XPUB', WAIT_MS);

    s.feed.interest!('NSE', 'RELIANCE', 2);
    await sees(x, 0, ['+NSE_RELIANCE_QUOTE', '+NSE_RELIANCE_DEPTH']);
    s.feed.interest!('NSE', 'RELIANCE', 1);
    await sees(x, 2, ['+NSE_RELIANCE_LTP']);
    s.feed.orderInterest!(['zerodha_alice_orders'], true);
    await sees(x, 3, ['+zerodha_alice_orders']);

    // The LTP holder leaves: LTP is cancelled only after the grace.
    s.feed.interest!('NSE', 'RELIANCE', 2);
    await sleep(GRACE_MS / 3);
    expect(x.events).toHaveLength(4);
    await sees(x, 4, ['-NSE_RELIANCE_LTP']);
    // The last holder leaves and comes back within the grace: nothing flaps.
    s.feed.interest!('NSE', 'RELIANCE', 0);
    await sleep(GRACE_MS / 3);
    s.feed.interest!('NSE', 'RELIANCE', 2);
    await sleep(GRACE_MS * 2);
    expect(x.events).toHaveLength(5);
    s.feed.interest!('NSE', 'RELIANCE', 0);
    s.feed.orderInterest!(['zerodha_alice_orders'], false);
    await sees(x, 5, ['-NSE_RELIANCE_QUOTE', '-NSE_RELIANCE_DEPTH', '-zerodha_alice_orders']);
    expect(x.events).not.toContain('+');
  });

  it('a publisher that connects later gets the current set, and filters at the source: only subscribed topics cross, a prefix match is dropped and counted', async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const s = await startSource(engine, { bind: endpoint });
    s.feed.interest!('NSE', 'TCS', 3);
    s.feed.interest!('NSE', 'INFY', 2);
    s.feed.interest!('NSE', 'INFY', 0);
    await sleep(GRACE_MS * 2);
    const x = await xpubOf(kind)('connect', endpoint);
    await sees(x, 0, ['+NSE_TCS_DEPTH']);

    for (let i = 0; i < 5; i++) {
      await x.send('NSE_INFY_DEPTH', `{"i":${i}}`);
      await x.send('NSE_TCS_LTP', `{"i":${i}}`);
      await x.send('NSE_TCS_DEPTHX', `{"i":${i}}`);
      await x.send('NSE_TCS_DEPTH', `{"i":${i}}`);
    }
    await until(() => s.ticks.length === 5 && s.stats.feedUnsubscribed === 5, '5 ticks and 5 prefix matches', WAIT_MS);
    await sleep(100);
    expect(s.ticks.map((t) => `${t.topic} ${String(t.payload)}`)).toStrictEqual(
      Array.from({ length: 5 }, (_, i) => `NSE_TCS_DEPTH {"i":${i}}`),
    );
    // NSE_INFY_DEPTH and NSE_TCS_LTP never crossed: had they, they would be counted here too.
    expect(s.stats.feedUnsubscribed).toBe(5);
  });

  it('a restarted feed subscribes the same set again', async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const x = await xpubOf(kind)('bind', endpoint);
    const hold = (feed: FeedSource): void => {
      feed.interest!('BSE', 'SENSEX', 1);
      feed.orderInterest!(['zerodha_bob_orders'], true);
    };
    const first = await startSource(engine, { connect: endpoint }, hold);
    const set = ['+BSE_SENSEX_LTP', '+BSE_SENSEX_QUOTE', '+BSE_SENSEX_DEPTH', '+zerodha_bob_orders'];
    await sees(x, 0, set);
    first.stop();
    await until(() => x.events.length >= 8, 'the XPUB to drop the closed feed', WAIT_MS);
    const from = x.events.length;
    await startSource(engine, { connect: endpoint }, hold);
    await sees(x, from, set);
  });
});
