/**
 * The clients of the OpenAlgo comparison: `conns` WebSocket connections in one process, each
 * speaking OpenAlgo's client protocol (the same on both servers): `authenticate` with an API key,
 * then one `subscribe` of every symbol in one mode. Every `market_data` frame is measured in place
 * (no JSON parse): its publisher stamp `ts_ns` is found and read, whatever the server's spacing
 * (OpenAlgo's json.dumps writes `"ts_ns": 1`, Tickcast `"ts_ns":1`). Only frames stamped inside the
 * current window count, so warm-up and drain never blur a figure.
 *
 * IPC: `connect` {port, conns, apiKey, keys, mode}; `window` {fromNs, toNs}; `collect`.
 */
import { boundChild, childConfig, EXCHANGE, serveParent, symbolName } from '../e2e/common';
import { LatencyHistogram } from '../e2e/histogram';
import { RawWebSocket } from '../e2e/rawWs';

export interface ClientsConfig {
  readonly maxLifetimeMs: number;
}

export interface ClientsReport {
  readonly connections: number;
  readonly closed: number;
  readonly delivered: number;
  readonly unstamped: number;
  readonly framesTotal: number;
  /** market_data frames received inside the window, whenever stamped: the server's throughput. */
  readonly receivedInWindow: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
}

const MARKET_DATA = Buffer.from('"market_data"');
const STAMP = Buffer.from('"ts_ns":');

async function main(): Promise<void> {
  const config = childConfig<ClientsConfig>();
  boundChild(config.maxLifetimeMs);
  const hist = new LatencyHistogram();
  const sockets: RawWebSocket[] = [];
  let fromNs = Infinity;
  let toNs = -Infinity;
  let delivered = 0;
  let unstamped = 0;
  let framesTotal = 0;
  let receivedInWindow = 0;
  let closed = 0;

  const onMarketData = (buf: Buffer, start: number, end: number, recvNs: number): void => {
    framesTotal++;
    if (recvNs >= fromNs && recvNs < toNs) receivedInWindow++;
    let p = buf.indexOf(STAMP, start);
    if (p < 0 || p >= end) {
      unstamped++;
      return;
    }
    p += STAMP.length;
    while (buf[p] === 0x20) p++;
    let stamp = 0;
    let c = buf[p] as number;
    while (c >= 48 && c <= 57) {
      stamp = stamp * 10 + c - 48;
      c = buf[++p] as number;
    }
    if (stamp < fromNs || stamp >= toNs) return;
    delivered++;
    hist.add((recvNs - stamp) / 1000);
  };

  const open = async (port: number, apiKey: string, keys: number, mode: number | string): Promise<void> => {
    let waiting: { type: string; resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void } | undefined;
    const ws = await RawWebSocket.connect(port, {
      onMessage(buf, start, end, recvNs) {
        const at = buf.indexOf(MARKET_DATA, start);
        if (at >= 0 && at < start + 16) return onMarketData(buf, start, end, recvNs);
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(buf.toString('utf8', start, end)) as Record<string, unknown>;
        } catch {
          return;
        }
        if (!waiting) return;
        const w = waiting;
        if (msg['type'] === w.type) {
          waiting = undefined;
          if (msg['status'] === 'error') w.reject(new Error(`${w.type}: ${String(msg['message'])}`));
          else w.resolve(msg);
        } else if (msg['status'] === 'error') {
          waiting = undefined;
          w.reject(new Error(`${String(msg['code'])}: ${String(msg['message'])}`));
        }
      },
      onClose() {
        closed++;
      },
    });
    const expect = (type: string): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${type} reply within 60 s`)), 60_000);
        waiting = {
          type,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        };
      });
    sockets.push(ws);
    const authed = expect('auth');
    ws.sendText(JSON.stringify({ action: 'authenticate', api_key: apiKey }));
    await authed;
    const symbols = Array.from({ length: keys }, (_, i) => ({ symbol: symbolName(i), exchange: EXCHANGE }));
    const subscribed = expect('subscribe');
    ws.sendText(JSON.stringify({ action: 'subscribe', symbols, mode }));
    const reply = await subscribed;
    const entries = (reply['subscriptions'] ?? reply['results'] ?? []) as { status?: string }[];
    const failed = entries.filter((e) => e.status !== undefined && e.status !== 'success').length;
    if (failed > 0) throw new Error(`${failed} of ${keys} subscriptions failed`);
  };

  serveParent(async (msg) => {
    if (msg.cmd === 'connect') {
      const conns = msg['conns'] as number;
      // One at a time: OpenAlgo's proxy answers each subscribe of 1,000 symbols with 1,000 adapter calls.
      for (let i = 0; i < conns; i++)
        await open(msg['port'] as number, msg['apiKey'] as string, msg['keys'] as number, msg['mode'] as number | string);
      return { connections: sockets.length };
    }
    if (msg.cmd === 'window') {
      fromNs = msg['fromNs'] as number;
      toNs = msg['toNs'] as number;
      delivered = 0;
      receivedInWindow = 0;
      hist.reset();
      return {};
    }
    if (msg.cmd === 'collect') {
      const report: ClientsReport = {
        connections: sockets.length,
        closed,
        delivered,
        unstamped,
        framesTotal,
        receivedInWindow,
        p50Us: hist.percentileUs(50),
        p99Us: hist.percentileUs(99),
        maxUs: hist.maxUs,
      };
      return report;
    }
    throw new Error(`unknown command ${String(msg.cmd)}`);
  });
  process.on('SIGTERM', () => {
    for (const ws of sockets) ws.destroy();
    process.exit(0);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`openalgo bench clients failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
