import { ConfigError, type OptionSpec, parseArgs, resolveOptions, SERVE_OPTIONS, zmqEndpoints } from '../config';
import type { BridgeConfig } from './bridge';
import { DEFAULT_STREAM } from './subject';

const fromServe = (names: readonly string[]): OptionSpec[] => names.map((name) => SERVE_OPTIONS.find((s) => s.name === name) as OptionSpec);

/**
 * Options of `tickcast bridge`: the ZeroMQ side exactly as `serve` reads it (same flags, same env
 * vars), plus the NATS side.
 */
export const BRIDGE_OPTIONS: readonly OptionSpec[] = [
  ...fromServe(['zmq-bind', 'zmq-connect', 'zmq-engine', 'zmq-rcvhwm', 'zmq-read-interval-ms', 'two-segment-exchanges']),
  { name: 'nats', kind: 'string', arg: 'URL', default: 'nats://127.0.0.1:4222', help: 'NATS server(s) to publish to, comma-separated' },
  {
    name: 'throttle-ms',
    kind: 'int',
    default: 100,
    min: 0,
    max: 60_000,
    help: 'per-key throttle before publishing, as the proxy applies it, so the bus carries at most what clients get; 0 publishes every tick (use 0, or the smallest window, when nodes run different --throttle-ms)',
  },
  {
    name: 'nats-stream',
    kind: 'string',
    default: DEFAULT_STREAM,
    help: 'JetStream stream that keeps the last tick per subject (nodes read it for snapshots)',
  },
  {
    name: 'nats-storage',
    kind: 'string',
    default: 'file',
    choices: ['file', 'memory'],
    help: 'storage of the last-value stream: file survives a nats-server restart',
  },
  { name: 'nats-replicas', kind: 'int', default: 1, min: 1, max: 5, help: 'replicas of the last-value stream in a JetStream cluster' },
  ...fromServe(['max-keys', 'log-level', 'stats-interval-s']),
];

/** Builds the frozen bridge configuration from resolved options. */
export function buildBridgeConfig(opts: Record<string, unknown>): BridgeConfig {
  const { zmqBind, zmqConnect, zmqEngine } = zmqEndpoints(opts);
  const nats = opts['nats'] as string;
  for (const url of nats.split(',').map((s) => s.trim())) {
    if (!/^(nats|tls|ws|wss):\/\/[^\s]+$|^[^\s:/]+:\d+$/.test(url)) {
      throw new ConfigError(`--nats "${url}" is not a NATS URL: use nats://HOST:PORT (several separated by commas).`);
    }
  }
  const stream = opts['nats-stream'] as string;
  if (!/^[A-Za-z0-9_-]+$/.test(stream)) {
    throw new ConfigError(`--nats-stream "${stream}" is not a valid stream name: use letters, digits, _ and -.`);
  }
  return Object.freeze({
    zmqBind,
    zmqConnect,
    zmqEngine,
    zmqRcvHwm: opts['zmq-rcvhwm'] as number,
    zmqReadIntervalMs: opts['zmq-read-interval-ms'] as number,
    nats,
    throttleMs: opts['throttle-ms'] as number,
    twoSegmentExchanges: opts['two-segment-exchanges'] as string[],
    stream,
    storage: opts['nats-storage'] as 'file' | 'memory',
    replicas: opts['nats-replicas'] as number,
    maxKeys: opts['max-keys'] as number,
    logLevel: opts['log-level'] as string,
    statsIntervalS: opts['stats-interval-s'] as number,
  });
}

/** `bridge` in one call: argv + env → frozen config (flag beats env beats default). */
export function loadBridgeConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): BridgeConfig {
  const { raw } = parseArgs(argv, BRIDGE_OPTIONS);
  return buildBridgeConfig(resolveOptions(BRIDGE_OPTIONS, raw, env));
}
