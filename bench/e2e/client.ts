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
  /** Per connection, its own symbols instead of `symbols`: the k-th connection opened takes `symbolSets[k]`. */
  readonly symbolSets?: readonly (readonly number[])[];
  readonly mode: 1 | 2 | 3;
  readonly depth: number;
  /** Ask for batched delivery (`set_options` `batch_ms`) after subscribing; 0 or absent: one frame per update. */
  readonly batchMs?: number;
  /** Connections opened at once. */
  readonly concurrency: number;
}

/** `probe`: one extra connection subscribes to `symbols` at once, under whatever load runs. */
export interface ProbeRequest {
  readonly port: number;
  readonly apiKey: string;
  readonly symbols: readonly number[];
  readonly mode: 1 | 2 | 3;
  readonly depth: number;
  /**
   * Keys to wait for after the reply: each one done at its first `market_data` frame (its snapshot,
   * or a newer tick where a slow client's conflation replaced the snapshot). 0 for a target that
   * keeps no last values.
   */
  readonly snapshots: number;
  readonly timeoutMs: number;
}

/** How long a subscribe of many symbols took, from sending it. */
export interface ProbeReport {
  /** Until the subscribe reply arrived, ms. */
  readonly replyMs: number;
  /** Until every expected key had its first frame (NaN when not all did in time), ms. */
  readonly snapshotsMs: number;
  /** Keys that had a frame. */
  readonly snapshots: number;
  /** Of the keys' first frames, how many were published before the subscribe was sent (true snapshots). */
  readonly stampedBefore: number;
  readonly replyBytes: number;
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
  /**
   * Last seq per (symbol index × 4 + mode): an array indexed by it when the connection's symbols
   * are dense enough, a Map when they are a few scattered over a large universe.
   */
  lastSeq = new Float64Array(0);
  lastSeqSparse: Map<number, number> | undefined;
  /** Set while a probe waits for the first frame of each of its keys. */
  probe:
    | {
        readonly before: number;
        readonly want: number;
        readonly seen: Set<number>;
        stampedBefore: number;
        doneNs: number;
        readonly done: () => void;
      }
    | undefined;
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
    const probe = conn.probe;
    if (probe !== undefined && !probe.seen.has(symbol)) {
      probe.seen.add(symbol);
      if (stamp < probe.before) probe.stampedBefore++;
      if (probe.seen.size === probe.want) {
        probe.doneNs = recvNs;
        probe.done();
      }
    }
    const slot = symbol * 4 + mode;
    let last: number;
    const sparse = conn.lastSeqSparse;
    if (sparse !== undefined) {
      last = sparse.get(slot) ?? 0;
      sparse.set(slot, seq);
    } else {
      if (slot >= conn.lastSeq.length) {
        const grown = new Float64Array(Math.max(slot + 1, conn.lastSeq.length * 2));
        grown.set(conn.lastSeq);
        conn.lastSeq = grown;
      }
      last = conn.lastSeq[slot] as number;
      conn.lastSeq[slot] = seq;
    }
    if (stamp < fromNs || stamp >= toNs) return;
    delivered++;
    bytesInWindow += end - start;
    if (last > 0) {
      if (seq > last + 1) gaps += seq - last - 1;
      else if (seq <= last) reordered++;
    }
    hist.add((recvNs - stamp) / 1000);
  };

  const open = async (req: ConnectRequest, symbols: readonly number[] = req.symbols, probeOnly = false): Promise<Connection> => {
    const conn = new Connection();
    if (!probeOnly) conns.push(conn);
    let top = 0;
    for (const s of symbols) if (s > top) top = s;
    // A few keys scattered over a 100,000-key universe would need a 3 MB array per connection.
    if (top > 4096 && top > 16 * symbols.length) conn.lastSeqSparse = new Map();
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
    if (symbols.length === 0 || probeOnly) return conn;
    const subscribed = conn.expect('subscribe');
    conn.ws.sendText(subscribeText(symbols, req.mode, req.depth));
    const reply = await subscribed;
    if (reply['status'] !== 'success') throw new Error(`subscribe answered ${String(reply['status'])}`);
    if (req.batchMs) {
      const set = conn.expect('set_options');
      conn.ws.sendText(JSON.stringify({ action: 'set_options', batch_ms: req.batchMs }));
      await set;
    }
    return conn;
  };

  /** Subscribes `symbols` on a fresh connection and times the reply and the snapshots; closes it after. */
  const probe = async (req: ProbeRequest): Promise<ProbeReport> => {
    const conn = await open(
      { port: req.port, conns: 1, apiKey: req.apiKey, symbols: req.symbols, mode: req.mode, depth: req.depth, concurrency: 1 },
      req.symbols,
      true,
    );
    const ws = conn.ws as RawWebSocket;
    try {
      const text = subscribeText(req.symbols, req.mode, req.depth);
      const subscribed = conn.expect('subscribe', req.timeoutMs);
      let snapshotsDone: () => void = () => undefined;
      const snapshots = new Promise<void>((resolve) => (snapshotsDone = resolve));
      const t0 = nowNs();
      conn.probe = { before: t0, want: req.snapshots, seen: new Set(), stampedBefore: 0, doneNs: NaN, done: snapshotsDone };
      ws.sendText(text);
      const reply = await subscribed;
      const replyNs = nowNs();
      if (reply['status'] !== 'success') throw new Error(`probe subscribe answered ${String(reply['status'])}`);
      if (req.snapshots > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([snapshots, new Promise<void>((resolve) => (timer = setTimeout(resolve, req.timeoutMs)))]);
        clearTimeout(timer);
      }
      const p = conn.probe;
      return {
        replyMs: (replyNs - t0) / 1e6,
        snapshotsMs: req.snapshots > 0 ? (p.doneNs - t0) / 1e6 : NaN,
        snapshots: p.seen.size,
        stampedBefore: p.stampedBefore,
        replyBytes: JSON.stringify(reply).length,
      };
    } finally {
      conn.probe = undefined;
      ws.destroy();
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
            const k = next++;
            try {
              await open(req, req.symbolSets?.[k] ?? req.symbols);
            } catch (err) {
              if (errors.length < 5) errors.push(err instanceof Error ? err.message : String(err));
              else errors.push('');
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(req.concurrency, req.conns) }, worker));
        return { connected: req.conns - errors.length, failed: errors.length, errors: errors.filter((e) => e !== '') };
      }
      case 'probe':
        return probe(msg['request'] as ProbeRequest);
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

function subscribeText(symbols: readonly number[], mode: 1 | 2 | 3, depth: number): string {
  return JSON.stringify({ action: 'subscribe', symbols: symbols.map((s) => ({ symbol: `S${s}`, exchange: 'NSE' })), mode, depth });
}

main().catch((err: unknown) => {
  process.stderr.write(`client failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
