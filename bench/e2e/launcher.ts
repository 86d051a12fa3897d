/**
 * Runs the real proxy as its own process for the benchmark: `startProxy` with the production
 * defaults, a benchmark API key and the flags a scenario sets (`--throttle-ms`, ports). Exits
 * cleanly on SIGTERM so `--cpu-prof` can write its profile.
 */
import { defaultServeConfig, type ServeConfig } from '../../src/config';
import type { ZmqEngine } from '../../src/ingest/zmq';
import { createLogger } from '../../src/logger';
import { startProxy } from '../../src/server';
import { BROKER, boundChild, childConfig, type IpcMessage, memoryReport, serveParent, toParent } from './common';
import { diagnostics } from './diagnostics';

export interface LauncherConfig {
  readonly port: number;
  readonly zmqBind: string;
  readonly apiKey: string;
  readonly throttleMs: number;
  readonly maxLifetimeMs: number;
  /** `--zmq-read-interval-ms` when a lever experiment sets it; the production default otherwise. */
  readonly zmqReadIntervalMs?: number;
  /** `--zmq-engine` when a lever experiment sets it; the production default otherwise. */
  readonly zmqEngine?: ZmqEngine;
  /**
   * `--zmq-subscribe` (ServeConfig `zmqSubscribe`): subscribe to every topic, or only to those
   * clients hold. Passed only when the proxy under test has the option; the ready event says.
   */
  readonly zmqSubscribe?: 'all' | 'interest';
}

/** What the launcher tells the orchestrator when the proxy is up. */
export interface LauncherReady {
  readonly event: 'ready';
  readonly port: number;
  /** ServeConfig options this proxy has that a scenario may depend on. */
  readonly supports: { readonly zmqSubscribe: boolean };
}

async function main(): Promise<void> {
  const options = childConfig<LauncherConfig>();
  boundChild(options.maxLifetimeMs);
  // An option the proxy does not know would be ignored silently: look for it in the defaults.
  const supports = {
    zmqSubscribe: 'zmqSubscribe' in defaultServeConfig({ apiKeys: [{ key: options.apiKey, userId: 'bench', broker: BROKER }] }),
  };
  const optional: Record<string, unknown> = {};
  if (options.zmqSubscribe !== undefined && supports.zmqSubscribe) optional['zmqSubscribe'] = options.zmqSubscribe;
  const config = defaultServeConfig({
    ...(optional as Partial<ServeConfig>),
    apiKeys: [{ key: options.apiKey, userId: 'bench', broker: BROKER }],
    host: '127.0.0.1',
    port: options.port,
    zmqBind: options.zmqBind,
    throttleMs: options.throttleMs,
    ...(options.zmqReadIntervalMs === undefined ? {} : { zmqReadIntervalMs: options.zmqReadIntervalMs }),
    ...(options.zmqEngine === undefined ? {} : { zmqEngine: options.zmqEngine }),
  });
  const proxy = await startProxy({ config, logger: createLogger({ level: 'warn', pretty: false, destination: process.stderr }) });
  const diag = diagnostics();
  serveParent((msg: IpcMessage) => {
    const d = diag(msg.cmd, msg);
    if (d) return d;
    if (msg.cmd === 'mem') return memoryReport(msg['gc'] === true);
    if (msg.cmd === 'stats') return { ...proxy.stats, hub: proxy.hub.stats(), clients: proxy.gateway.clientCount() };
    throw new Error(`unknown command ${String(msg.cmd)}`);
  });
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) process.exit(0);
    stopping = true;
    const hard = setTimeout(() => process.exit(0), 2000);
    proxy.close().finally(() => {
      clearTimeout(hard);
      process.exit(0);
    });
  });
  const ready: LauncherReady = { event: 'ready', port: proxy.port, supports };
  toParent({ ...ready });
}

main().catch((err: unknown) => {
  process.stderr.write(`proxy launcher failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
