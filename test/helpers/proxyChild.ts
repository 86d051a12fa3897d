/**
 * A proxy in a process of its own, for the tests that measure a proxy (heap after GC, open file
 * descriptors, RSS) or kill one. Bundled and spawned by `spawnProxy` in ./helpers with
 * `--expose-gc`; configured by a JSON argument; answers `measure`, `sample` and `close` over IPC.
 */
import { readdirSync } from 'node:fs';
import { defaultServeConfig, type ServeConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startProxy } from '../../src/server';

/** What the child reports when asked to `measure`. */
export interface ChildMeasure {
  /** `process.memoryUsage().heapUsed` after two full collections. */
  readonly heapUsed: number;
  readonly rss: number;
  /** Entries in /proc/self/fd. */
  readonly fds: number;
  readonly clients: number;
  readonly hub: { clients: number; subscriptions: number; symbols: number; heldSymbols: number; keys: number };
  readonly received: number;
  readonly disconnects: Record<string, number>;
  readonly connectionsTotal: number;
  readonly conflated: number;
  readonly ticksOut: number;
  readonly feedDropped: Record<string, number>;
}

/** A cheap reading (no GC): what a test samples while traffic flows. */
export interface ChildSample {
  readonly rss: number;
  readonly clients: number;
  readonly disconnects: Record<string, number>;
}

/** What the child sends once listening. */
export interface ChildReady {
  readonly port: number;
  /** The ZeroMQ endpoint it bound, ports resolved. */
  readonly zmq: string;
}

async function main(): Promise<void> {
  const overrides = JSON.parse(process.argv[2] ?? '{}') as Partial<ServeConfig> & Pick<ServeConfig, 'apiKeys'>;
  const config = defaultServeConfig(overrides);
  // Log lines go to stderr, which the parent keeps (ChildProxy.stderr); silent unless asked.
  const proxy = await startProxy({ config, logger: createLogger({ level: config.logLevel, destination: process.stderr }) });
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', (msg: unknown) => {
    if (msg === 'measure') {
      gc?.();
      gc?.();
      const m: ChildMeasure = {
        heapUsed: process.memoryUsage().heapUsed,
        rss: process.memoryUsage.rss(),
        fds: readdirSync('/proc/self/fd').length,
        clients: proxy.gateway.clientCount(),
        hub: proxy.hub.stats(),
        received: proxy.stats.received,
        disconnects: { ...proxy.stats.disconnects },
        connectionsTotal: proxy.stats.connectionsTotal,
        conflated: proxy.stats.conflated,
        ticksOut: proxy.stats.ticksOut,
        feedDropped: { ...proxy.stats.feedDropped },
      };
      process.send?.({ measure: m });
    } else if (msg === 'sample') {
      const sample: ChildSample = {
        rss: process.memoryUsage.rss(),
        clients: proxy.gateway.clientCount(),
        disconnects: { ...proxy.stats.disconnects },
      };
      process.send?.({ sample });
    } else if (msg === 'close') {
      void proxy.close().then(() => process.exit(0));
    }
  });
  const ready: ChildReady = { port: proxy.port, zmq: proxy.feed.describe().replace(/^zmq /, '') };
  process.send?.({ ready });
}

main().catch((err: unknown) => {
  process.stderr.write(`proxy child failed: ${String(err)}\n`);
  process.exit(1);
});
