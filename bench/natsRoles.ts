/**
 * One role of the NATS topology as its own process for bench/nats.ts: `bridge` (startBridge, as
 * `tickcast bridge` runs it) or `node` (startProxy with `--nats`, as `tickcast serve --nats` runs
 * it), production defaults otherwise. Spoken to over IPC like the bench/e2e children.
 */
import { defaultServeConfig, resolveOptions } from '../src/config';
import { createLogger } from '../src/logger';
import { startBridge } from '../src/nats/bridge';
import { BRIDGE_OPTIONS, buildBridgeConfig } from '../src/nats/bridgeConfig';
import { startProxy } from '../src/server';
import { BROKER, boundChild, childConfig, type IpcMessage, serveParent, toParent } from './e2e/common';

export interface NatsRoleConfig {
  readonly role: 'bridge' | 'node';
  readonly nats: string;
  /** bridge: the endpoint its SUB binds (the publisher connects). */
  readonly zmqBind?: string;
  /** node: the WebSocket port. */
  readonly port?: number;
  readonly apiKey: string;
  readonly maxLifetimeMs: number;
}

async function main(): Promise<void> {
  const options = childConfig<NatsRoleConfig>();
  boundChild(options.maxLifetimeMs);
  const logger = createLogger({ level: 'warn', pretty: false, destination: process.stderr });
  let stats: () => unknown;
  let close: () => Promise<void>;
  if (options.role === 'bridge') {
    const defaults = resolveOptions(BRIDGE_OPTIONS, new Map(), {});
    const config = buildBridgeConfig({ ...defaults, 'zmq-bind': options.zmqBind, nats: options.nats, 'stats-interval-s': 0 });
    const bridge = await startBridge({ config, logger });
    stats = () => bridge.counters;
    close = () => bridge.close();
  } else {
    const config = defaultServeConfig({
      apiKeys: [{ key: options.apiKey, userId: 'bench', broker: BROKER }],
      host: '127.0.0.1',
      port: options.port ?? 0,
      nats: options.nats,
      statsIntervalS: 0,
    });
    const proxy = await startProxy({ config, logger });
    stats = () => ({ ...proxy.stats, hub: proxy.hub.stats(), clients: proxy.gateway.clientCount() });
    close = () => proxy.close();
  }
  serveParent((msg: IpcMessage) => {
    if (msg.cmd === 'stats') return stats();
    throw new Error(`unknown command ${String(msg.cmd)}`);
  });
  process.on('SIGTERM', () => {
    const hard = setTimeout(() => process.exit(0), 2000);
    close().finally(() => {
      clearTimeout(hard);
      process.exit(0);
    });
  });
  toParent({ event: 'ready' });
}

main().catch((err: unknown) => {
  process.stderr.write(`nats ${process.argv[2] ?? ''} role failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
