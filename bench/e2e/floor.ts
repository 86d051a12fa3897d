/**
 * The FLOOR: the smallest honest Node program that does the proxy's job for the benchmark's clients.
 * It binds the same ZeroMQ SUB socket, accepts the same WebSocket clients (authenticate and bulk
 * subscribe, minimally), and sends every tick to every client subscribed to its topic with one
 * `ws.send` — no throttle, no parsing of the payload, no normalising. The frame is built once per
 * tick and is byte-compatible with the proxy's `market_data` frame (same head, a `seq` per topic,
 * the payload as `data`), so clients measure both the same way.
 *
 * Every end-to-end scenario runs this next to the proxy in the same invocation; figures are quoted
 * as ratios to it.
 *
 * `variant` turns it into a lever experiment (`npm run bench -- --levers`), never the floor itself:
 * `cork` corks each client socket until the batch of ready ticks is sent (one writev per client per
 * batch); `preframed` also builds the WebSocket frame (header + payload) once per tick and writes
 * those same bytes to every socket, skipping `ws.send` per client. Server frames are unmasked, so
 * the bytes are identical for every client. `coalesced` also joins a client's frames of the batch
 * into one buffer: one `socket.write` per client per batch instead of one per frame. `zmtp` reads the
 * ZeroMQ socket with the proxy's built-in ZMTP engine instead of the zeromq package.
 */
import type { Socket } from 'node:net';
import { Subscriber } from 'zeromq';
import { wsTextFrame } from '../../src/frames';
import { ZmtpSubscriber } from '../../src/ingest/zmtp';
import { WebSocketServer, type WebSocket } from 'ws';
import { BROKER, boundChild, childConfig, type IpcMessage, memoryReport, MODE_TOPIC, serveParent, toParent } from './common';
import { diagnostics } from './diagnostics';

export interface FloorConfig {
  readonly port: number;
  readonly zmqBind: string;
  readonly apiKey: string;
  readonly receiveHighWaterMark: number;
  readonly maxLifetimeMs: number;
  readonly variant?: FloorVariant;
  /** Read the ZeroMQ socket with the proxy's ZMTP engine instead of the zeromq package (a lever). */
  readonly zmtp?: boolean;
}

export type FloorVariant = 'plain' | 'cork' | 'preframed' | 'coalesced';

interface Topic {
  readonly head: string;
  seq: number;
  readonly clients: Set<WebSocket>;
}

const TAIL = `,"broker":"${BROKER}"}`;

async function main(): Promise<void> {
  const config = childConfig<FloorConfig>();
  boundChild(config.maxLifetimeMs);
  const topics = new Map<string, Topic>();
  let framesSent = 0;
  const topicOf = (exchange: string, symbol: string, mode: number): Topic => {
    const name = `${exchange}_${symbol}_${MODE_TOPIC[mode] ?? ''}`;
    let topic = topics.get(name);
    if (!topic) {
      const head = `{"type":"market_data","symbol":${JSON.stringify(symbol)},"exchange":${JSON.stringify(exchange)},"mode":${mode},"seq":`;
      topic = { head, seq: 0, clients: new Set() };
      topics.set(name, topic);
    }
    return topic;
  };

  const wss = new WebSocketServer({ host: '127.0.0.1', port: config.port, perMessageDeflate: false, clientTracking: false });
  wss.on('connection', (ws: WebSocket) => {
    let authed = false;
    const held: Topic[] = [];
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as {
        action?: string;
        api_key?: string;
        mode?: number;
        symbols?: { symbol: string; exchange: string }[];
      };
      if (msg.action === 'authenticate') {
        authed = msg.api_key === config.apiKey;
        ws.send(JSON.stringify(authed ? { type: 'auth', status: 'success' } : { status: 'error', code: 'AUTHENTICATION_ERROR' }));
      } else if (msg.action === 'subscribe' && authed) {
        for (const s of msg.symbols ?? []) {
          const topic = topicOf(s.exchange, s.symbol, msg.mode ?? 2);
          topic.clients.add(ws);
          held.push(topic);
        }
        ws.send(JSON.stringify({ type: 'subscribe', status: 'success' }));
      } else if (msg.action === 'set_options') {
        // Batched delivery is the proxy's lever; the floor stays at one frame per tick.
        ws.send(JSON.stringify({ type: 'set_options', status: 'success' }));
      }
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      for (const topic of held) topic.clients.delete(ws);
    });
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });

  const variant = config.variant ?? 'plain';
  const corked = new Set<Socket>();
  const uncorkAll = (): void => {
    for (const s of corked) s.uncork();
    corked.clear();
  };
  const corkedSocket = (ws: WebSocket): Socket => {
    const s = (ws as unknown as { _socket: Socket })._socket;
    if (!corked.has(s)) {
      if (corked.size === 0) process.nextTick(uncorkAll);
      s.cork();
      corked.add(s);
    }
    return s;
  };

  const pending = new Map<Socket, Buffer[]>();
  const flush = (): void => {
    for (const [s, list] of pending) s.write(list.length === 1 ? (list[0] as Buffer) : Buffer.concat(list));
    pending.clear();
  };

  const onTick = (name: string, payload: Buffer): void => {
    const topic = topics.get(name);
    if (topic === undefined || topic.clients.size === 0) return;
    topic.seq++;
    const frame = Buffer.from(`${topic.head}${topic.seq},"data":${payload.toString('utf8')}${TAIL}`, 'utf8');
    if (variant === 'plain') for (const ws of topic.clients) ws.send(frame, { binary: false });
    else if (variant === 'cork') {
      for (const ws of topic.clients) {
        corkedSocket(ws);
        ws.send(frame, { binary: false });
      }
    } else if (variant === 'preframed') {
      const wire = wsTextFrame(frame);
      for (const ws of topic.clients) corkedSocket(ws).write(wire);
    } else {
      const wire = wsTextFrame(frame);
      for (const ws of topic.clients) {
        const s = (ws as unknown as { _socket: Socket })._socket;
        let list = pending.get(s);
        if (list === undefined) {
          if (pending.size === 0) process.nextTick(flush);
          list = [];
          pending.set(s, list);
        }
        list.push(wire);
      }
    }
    framesSent += topic.clients.size;
  };

  let close: () => void;
  let read: () => Promise<void>;
  if (config.zmtp === true) {
    const zmtp = new ZmtpSubscriber({ message: onTick, badMessage: () => undefined });
    await zmtp.bind(config.zmqBind);
    close = () => zmtp.close();
    read = () => new Promise<void>(() => undefined);
  } else {
    const socket = new Subscriber({ receiveHighWaterMark: config.receiveHighWaterMark });
    socket.subscribe();
    await socket.bind(config.zmqBind);
    close = () => socket.close();
    read = async () => {
      for await (const [name, payload] of socket) onTick((name as Buffer).toString('utf8'), payload as Buffer);
    };
  }
  const diag = diagnostics();
  serveParent((msg: IpcMessage) => {
    const d = diag(msg.cmd, msg);
    if (d) return d;
    if (msg.cmd === 'mem') return memoryReport(msg['gc'] === true);
    if (msg.cmd === 'stats') return { framesSent };
    throw new Error(`unknown command ${String(msg.cmd)}`);
  });
  process.on('SIGTERM', () => {
    close();
    wss.close();
    process.exit(0);
  });
  toParent({ event: 'ready' });

  await read();
}

main().catch((err: unknown) => {
  process.stderr.write(`floor failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
