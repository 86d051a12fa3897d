/**
 * WebSocket client process: holds many connections to the proxy (or the floor), authenticates,
 * subscribes, and measures every `market_data` frame in place: publish→receive latency from the
 * payload's stamp, sequence gaps per (connection, symbol, mode), counts. Only frames stamped inside
 * the current window count, so warm-up and drain never blur a figure.
 *
 * Driven over IPC: `connect`, `window`, `collect`, `stop`.
 */
import { boundChild, childConfig, type IpcMessage, nowNs, serveParent, STAMP_FIELD, toParent } from './common';
import { LatencyHistogram, type SparseHistogram } from './histogram';
import { RawWebSocket } from './rawWs';

export interface ClientConfig {
  readonly maxLifetimeMs: number;
}

export interface ConnectRequest {
  readonly port: number;
  readonly conns: number;
  readonly apiKey: string;
  /** Symbol indices to subscribe (all on every connection); none: authenticate only. */
  readonly symbols: readonly number[];
  readonly mode: 1 | 2 | 3;
  readonly depth: number;
  /** Ask for batched delivery (`set_options` `batch_ms`) after subscribing; 0 or absent: one frame per update. */
  readonly batchMs?: number;
  /** Connections opened at once. */
  readonly concurrency: number;
}

/** What a client process measured in the current window. */
export interface ClientReport {
  readonly connections: number;
  readonly closed: number;
  /** `market_data` frames stamped inside the window. */
  readonly delivered: number;
  /** Frames stamped inside the window whose seq skipped ahead, summed over the skipped amounts. */
  readonly gaps: number;
  /** Frames whose seq did not increase. */
  readonly reordered: number;
  /** market_data frames without a stamp, and frames this client cannot parse. */
  readonly unstamped: number;
  readonly unsupported: number;
  /** Every market_data frame since connect, in or out of any window. */
  readonly framesTotal: number;
  readonly bytesInWindow: number;
  readonly latency: SparseHistogram;
}

const SEQ = Buffer.from('"seq":');
const STAMP = Buffer.from(`"${STAMP_FIELD}":`);
/** `{"type":"market_data","symbol":"S` — the symbol's index starts right after. */
const SYMBOL_AT = '{"type":"market_data","symbol":"S'.length;
const TYPE_INITIAL_AT = '{"type":"'.length;
const M = 0x6d;
/** `market_data` and `market_data_batch` differ right after `market_data`: `"` or `_`. */
const BATCH_MARK_AT = '{"type":"market_data'.length;
const UNDERSCORE = 0x5f;
const MARKET_DATA_HEAD = Buffer.from('{"type":"market_data","symbol":"S');

/** Where the digits read by the last {@link readUint} ended. */
let digitsEnd = 0;

/** The unsigned integer written in ASCII at `buf[p]`; sets {@link digitsEnd}. No string is built. */
function readUint(buf: Buffer, p: number): number {
  let value = 0;
  let c = buf[p] as number;
  while (c >= 48 && c <= 57) {
    value = value * 10 + c - 48;
    c = buf[++p] as number;
  }
  digitsEnd = p;
  return value;
}

interface Waiter {
  readonly type: string;
  readonly resolve: (reply: Record<string, unknown>) => void;
  readonly reject: (err: Error) => void;
}

class Connection {
  ws: RawWebSocket | undefined;
  /** Last seq per (symbol index × 4 + mode). */
  lastSeq = new Float64Array(0);
  readonly waiters: Waiter[] = [];

  expect(type: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} reply within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  onControl(text: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    const waiter = this.waiters[0];
    if (!waiter) return;
    if (msg['type'] === waiter.type) {
      this.waiters.shift();
      waiter.resolve(msg);
    } else if (msg['status'] === 'error' && msg['type'] === undefined) {
      this.waiters.shift();
      waiter.reject(new Error(`${String(msg['code'])}: ${String(msg['message'])}`));
    }
  }
}

async function main(): Promise<void> {
  const config = childConfig<ClientConfig>();
  boundChild(config.maxLifetimeMs);
  const conns: Connection[] = [];
  const hist = new LatencyHistogram();
  let fromNs = Infinity;
  let toNs = -Infinity;
  let delivered = 0;
  let gaps = 0;
  let reordered = 0;
  let unstamped = 0;
  let framesTotal = 0;
  let bytesInWindow = 0;
  let closed = 0;

  const onMarketData = (conn: Connection, buf: Buffer, start: number, end: number, recvNs: number): void => {
    framesTotal++;
    const symbol = readUint(buf, start + SYMBOL_AT);
    const seqAt = buf.indexOf(SEQ, digitsEnd);
    if (seqAt < 0 || seqAt >= end) {
      unstamped++;
      return;
    }
    const mode = (buf[seqAt - 2] as number) - 48;
    const seq = readUint(buf, seqAt + SEQ.length);
    const stampAt = buf.indexOf(STAMP, digitsEnd);
    if (stampAt < 0 || stampAt >= end) {
      unstamped++;
      return;
    }
    const stamp = readUint(buf, stampAt + STAMP.length);
    const slot = symbol * 4 + mode;
    if (slot >= conn.lastSeq.length) {
      const grown = new Float64Array(Math.max(slot + 1, conn.lastSeq.length * 2));
      grown.set(conn.lastSeq);
      conn.lastSeq = grown;
    }
    const last = conn.lastSeq[slot] as number;
    conn.lastSeq[slot] = seq;
    if (stamp < fromNs || stamp >= toNs) return;
    delivered++;
    bytesInWindow += end - start;
    if (last > 0) {
      if (seq > last + 1) gaps += seq - last - 1;
      else if (seq <= last) reordered++;
    }
    hist.add((recvNs - stamp) / 1000);
  };

  const open = async (req: ConnectRequest): Promise<void> => {
    const conn = new Connection();
    conns.push(conn);
    conn.ws = await RawWebSocket.connect(req.port, {
      onMessage: (buf, start, end, recvNs) => {
        if (buf[start + TYPE_INITIAL_AT] !== M) conn.onControl(buf.toString('utf8', start, end));
        else if (buf[start + BATCH_MARK_AT] !== UNDERSCORE) onMarketData(conn, buf, start, end, recvNs);
        else {
          // {"type":"market_data_batch","ticks":[<market_data frame>, ...]}: each frame as it is.
          for (let at = buf.indexOf(MARKET_DATA_HEAD, start + 1); at >= 0 && at < end; at = buf.indexOf(MARKET_DATA_HEAD, at + 1)) {
            onMarketData(conn, buf, at, end, recvNs);
          }
        }
      },
      onClose: () => {
        closed++;
        for (const w of conn.waiters.splice(0)) w.reject(new Error('connection closed'));
      },
    });
    const authed = conn.expect('auth');
    conn.ws.sendText(JSON.stringify({ action: 'authenticate', api_key: req.apiKey }));
    await authed;
    if (req.symbols.length === 0) return;
    const subscribed = conn.expect('subscribe');
    conn.ws.sendText(
      JSON.stringify({
        action: 'subscribe',
        symbols: req.symbols.map((s) => ({ symbol: `S${s}`, exchange: 'NSE' })),
        mode: req.mode,
        depth: req.depth,
      }),
    );
    const reply = await subscribed;
    if (reply['status'] !== 'success') throw new Error(`subscribe answered ${String(reply['status'])}`);
    if (req.batchMs) {
      const set = conn.expect('set_options');
      conn.ws.sendText(JSON.stringify({ action: 'set_options', batch_ms: req.batchMs }));
      await set;
    }
  };

  serveParent(async (msg: IpcMessage) => {
    switch (msg.cmd) {
      case 'connect': {
        const req = msg['request'] as ConnectRequest;
        let next = 0;
        const errors: string[] = [];
        const worker = async (): Promise<void> => {
          while (next < req.conns) {
            next++;
            try {
              await open(req);
            } catch (err) {
              if (errors.length < 5) errors.push(err instanceof Error ? err.message : String(err));
              else errors.push('');
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(req.concurrency, req.conns) }, worker));
        return { connected: req.conns - errors.length, failed: errors.length, errors: errors.filter((e) => e !== '') };
      }
      case 'window':
        fromNs = msg['fromNs'] as number;
        toNs = msg['toNs'] as number;
        hist.reset();
        delivered = gaps = reordered = unstamped = bytesInWindow = 0;
        return true;
      case 'collect': {
        const report: ClientReport = {
          connections: conns.length,
          closed,
          delivered,
          gaps,
          reordered,
          unstamped,
          unsupported: conns.reduce((n, c) => n + (c.ws?.unsupported ?? 0), 0),
          framesTotal,
          bytesInWindow,
          latency: hist.toJSON(),
        };
        return report;
      }
      case 'stop':
        for (const c of conns) c.ws?.destroy();
        setTimeout(() => process.exit(0), 50);
        return true;
      default:
        throw new Error(`unknown command ${String(msg.cmd)}`);
    }
  });
  toParent({ event: 'ready' });
}

main().catch((err: unknown) => {
  process.stderr.write(`client failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
