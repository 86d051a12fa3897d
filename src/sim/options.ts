import { randomInt } from 'node:crypto';
import { ConfigError, type OptionSpec } from '../config';
import { DEFAULT_UNIVERSE, type MarketOptions } from './market';

/** The endpoint a simulator connects to by default: the proxy's default SUB bind (feed.md). */
export const DEFAULT_SIM_CONNECT = 'tcp://127.0.0.1:5555';

/** Depth levels real adapters send. */
const DEPTH_LEVELS = ['5', '20', '50'];

/**
 * Options of `tickcast sim` (and of `demo`, without `zmq-connect`). Their env vars are
 * `TICKCAST_SIM_*` so they never collide with the proxy's (`--zmq-connect` means where the
 * simulator's PUB connects here, but a publisher the proxy's SUB connects to in `serve`).
 */
export const SIM_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'zmq-connect',
    kind: 'string',
    arg: 'ENDPOINT',
    default: DEFAULT_SIM_CONNECT,
    env: 'TICKCAST_SIM_ZMQ_CONNECT',
    help: "the proxy SUB endpoint the simulator's PUB connects to, as a broker adapter does",
  },
  {
    name: 'symbols',
    kind: 'int',
    default: DEFAULT_UNIVERSE.length,
    min: 1,
    max: 100_000,
    env: 'TICKCAST_SIM_SYMBOLS',
    help: 'instruments to simulate (past the built-in universe: synthetic NSE equities)',
  },
  {
    name: 'rate',
    kind: 'number',
    arg: 'TICKS_PER_S_PER_SYMBOL',
    default: 2,
    min: 0.001,
    max: 10_000,
    env: 'TICKCAST_SIM_RATE',
    help: 'broker ticks per second per symbol; a tick goes out on one topic or on DEPTH, QUOTE and LTP at once',
  },
  {
    name: 'burst',
    kind: 'bool',
    default: false,
    env: 'TICKCAST_SIM_BURST',
    help: 'expiry-day bursts: 3 instruments tick at --burst-rate for 2 s of every 10 s',
  },
  {
    name: 'burst-rate',
    kind: 'number',
    default: 250,
    min: 1,
    max: 100_000,
    env: 'TICKCAST_SIM_BURST_RATE',
    help: 'ticks per second per bursting instrument during a burst',
  },
  {
    name: 'depth-levels',
    kind: 'string',
    arg: '5|20|50',
    default: '20',
    choices: DEPTH_LEVELS,
    env: 'TICKCAST_SIM_DEPTH_LEVELS',
    help: 'levels per book side in Depth payloads',
  },
  {
    name: 'unsorted-ratio',
    kind: 'number',
    default: 0.1,
    min: 0,
    max: 1,
    env: 'TICKCAST_SIM_UNSORTED_RATIO',
    help: 'share of books published with shuffled sides',
  },
  {
    name: 'seed',
    kind: 'int',
    min: 0,
    max: 4_294_967_295,
    env: 'TICKCAST_SIM_SEED',
    help: 'random seed, for a repeatable run [default: random]',
  },
];

/** What the simulator runs with. */
export interface SimConfig extends MarketOptions {
  readonly zmqConnect: string;
}

/** Builds the simulator's config from resolved options (see `resolveOptions`). */
export function buildSimConfig(opts: Record<string, unknown>): SimConfig {
  const zmqConnect = (opts['zmq-connect'] as string | undefined) ?? DEFAULT_SIM_CONNECT;
  if (!/^(tcp|ipc|inproc):\/\/.+/.test(zmqConnect)) {
    throw new ConfigError(`--zmq-connect "${zmqConnect}" is not a ZeroMQ endpoint: use tcp://HOST:PORT or ipc://PATH.`);
  }
  return Object.freeze({
    zmqConnect,
    symbols: opts['symbols'] as number,
    rate: opts['rate'] as number,
    burst: opts['burst'] as boolean,
    burstRate: opts['burst-rate'] as number,
    depthLevels: Number(opts['depth-levels']),
    unsortedRatio: opts['unsorted-ratio'] as number,
    seed: (opts['seed'] as number | undefined) ?? randomInt(0, 2 ** 32 - 1),
  });
}
