/**
 * The feed of the OpenAlgo comparison: a ZeroMQ PUB that connects to the proxy's SUB, as OpenAlgo's
 * broker adapters do, and publishes `NSE_S<i>_QUOTE` with OpenAlgo-shaped Quote payloads, `keys`
 * symbols at `ratePerKey` ticks a second each, spread evenly (tick j goes to symbol j % keys at
 * j / (keys × rate) s). Each payload is stamped with its send time (`ts_ns`, CLOCK_MONOTONIC), so
 * the client measures publish → receive latency. A late timer turn catches up, never drops.
 *
 * IPC: `window` {fromNs, toNs} — count the ticks stamped inside it; `collect` — that count.
 */
import { Publisher } from 'zeromq';
import { boundChild, childConfig, nowNs, serveParent, toParent } from '../e2e/common';
import { PayloadMaker } from '../e2e/feed';

export interface FeedConfig {
  readonly endpoint: string;
  readonly keys: number;
  readonly ratePerKey: number;
  readonly maxLifetimeMs: number;
}

async function main(): Promise<void> {
  const config = childConfig<FeedConfig>();
  boundChild(config.maxLifetimeMs);
  const socket = new Publisher({ sendHighWaterMark: 1_000_000, linger: 0 });
  socket.connect(config.endpoint);
  const maker = new PayloadMaker({ name: 'quote', firstSymbol: 0, keys: config.keys, ratePerKey: config.ratePerKey, mode: 2 });
  const topics = maker.topics.map((t) => Buffer.from(t));
  const periodNs = 1e9 / (config.keys * config.ratePerKey);
  const startNs = nowNs();
  let sent = 0;
  let windowFrom = Infinity;
  let windowTo = -Infinity;
  let inWindow = 0;
  let maxLagNs = 0;
  let stopped = false;

  serveParent((msg) => {
    if (msg.cmd === 'window') {
      windowFrom = msg['fromNs'] as number;
      windowTo = msg['toNs'] as number;
      inWindow = 0;
      maxLagNs = 0;
      return {};
    }
    if (msg.cmd === 'collect') return { sentInWindow: inWindow, maxLagMs: maxLagNs / 1e6, sent };
    throw new Error(`unknown command ${String(msg.cmd)}`);
  });
  process.on('SIGTERM', () => {
    stopped = true;
    socket.close();
    process.exit(0);
  });
  toParent({ event: 'ready' });

  while (!stopped) {
    const now = nowNs();
    const due = Math.floor((now - startNs) / periodNs);
    while (sent < due) {
      const k = sent % config.keys;
      const n = Math.floor(sent / config.keys);
      const stamp = nowNs();
      const lag = stamp - (startNs + sent * periodNs);
      if (lag > maxLagNs && stamp >= windowFrom && stamp < windowTo) maxLagNs = lag;
      await socket.send([topics[k] as Buffer, maker.payload(k, n, stamp)]);
      if (stamp >= windowFrom && stamp < windowTo) inWindow++;
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`openalgo bench publisher failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
