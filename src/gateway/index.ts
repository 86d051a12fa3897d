import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiKeyStore } from './auth';
import { Session, type SessionContext } from './session';
import type { Gateway, GatewayDeps, Identity, KeyVerifier } from './types';

/** The `batch_ms` query parameter of a connection URL, or null when absent. */
function batchQuery(url: string | undefined): string | null {
  if (url === undefined || !url.includes('batch_ms')) return null;
  try {
    return new URL(url, 'http://localhost').searchParams.get('batch_ms');
  } catch {
    return null;
  }
}

export type {
  AdapterStatus,
  Gateway,
  GatewayDeps,
  Identity,
  KeyVerifier,
  SessionView,
  Upstream,
  UpstreamItem,
  UpstreamResult,
  UserAdapterStatus,
} from './types';

/**
 * A user's order-event feed topics, as OpenAlgo's publisher names them
 * (subscribers/wsproxy_subscriber.py): the broker upper-cased, the user id as it is.
 */
export function orderTopics(user: Identity): readonly string[] {
  return [`${user.broker.toUpperCase()}_${user.userId}_orders`, `ANALYZE_${user.userId}_orders`];
}

/**
 * The WebSocket gateway on the proxy's HTTP server: OpenAlgo's client protocol (protocol.md) with
 * connection limits, one heartbeat sweep for all clients, and the per-user order relay.
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const { server, config, hub, logger, stats } = deps;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxFrameBytes,
    perMessageDeflate: config.perMessageDeflate,
    clientTracking: false,
  });
  const keys = new ApiKeyStore(config.apiKeys);
  const verifier: KeyVerifier = deps.verifier ?? { verify: (key) => keys.lookup(key) };
  const sessions = new Set<Session>();
  const remotePorts = new WeakMap<Session, number | undefined>();
  /** userId → sessions of that user that subscribed to order events, and the topics announced for them */
  const orderSubscribers = new Map<string, { readonly sessions: Set<Session>; readonly topics: readonly string[] }>();
  let accepting = true;
  let nextId = 1;

  const ctx: SessionContext = {
    config,
    hub,
    stats,
    verifier,
    upstream: deps.upstream,
    adapterStatus: deps.adapterStatus,
    brokers: keys.brokers(),
    orders: (session, subscribed) => {
      const user = session.user;
      if (user === undefined) return;
      let entry = orderSubscribers.get(user.userId);
      if (subscribed) {
        if (!entry) {
          entry = { sessions: new Set(), topics: orderTopics(user) };
          orderSubscribers.set(user.userId, entry);
          deps.onOrderInterest?.(entry.topics, true);
        }
        entry.sessions.add(session);
      } else if (entry) {
        entry.sessions.delete(session);
        if (entry.sessions.size === 0) {
          orderSubscribers.delete(user.userId);
          deps.onOrderInterest?.(entry.topics, false);
        }
      }
    },
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    if (!accepting) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
  };
  server.on('upgrade', onUpgrade);

  function onConnection(ws: WebSocket, req: IncomingMessage): void {
    stats.connectionsTotal++;
    if (sessions.size >= config.maxClients) {
      stats.disconnects.refused++;
      ws.close(1013, 'server at connection limit');
      setTimeout(() => ws.terminate(), 1000).unref();
      return;
    }
    const id = nextId++;
    const log = logger.child({ client: id });
    const session = new Session(id, ws, ctx, log);
    sessions.add(session);
    remotePorts.set(session, req.socket.remotePort);
    log.debug({ event: 'connect', remote: req.socket.remoteAddress }, 'client connected');
    const batchMs = batchQuery(req.url);
    if (batchMs !== null) session.applyUrlBatchMs(batchMs);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      session.onMessage(Array.isArray(data) ? Buffer.concat(data) : isBinary && !(data instanceof Buffer) ? Buffer.from(data) : data);
    });
    ws.on('pong', () => {
      session.alive = true;
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') stats.disconnects.oversize++;
      log.debug({ event: 'socket_error', code: err.code }, err.message);
    });
    ws.on('close', (code: number) => {
      session.end();
      sessions.delete(session);
      log.debug({ event: 'disconnect', code }, 'client disconnected');
    });
  }

  // One sweep for every client: a peer that has not answered the previous ping is cut.
  const heartbeat = setInterval(() => {
    for (const session of sessions) {
      if (!session.alive) {
        stats.disconnects.heartbeat++;
        session.ws.terminate();
        continue;
      }
      session.alive = false;
      try {
        session.ws.ping();
      } catch {
        // The socket is already going; its close event cleans up.
      }
    }
  }, config.pingIntervalS * 1000);
  heartbeat.unref();

  return {
    clientCount: () => sessions.size,

    sessions: () =>
      [...sessions].map((s) => ({
        id: s.id,
        remotePort: remotePorts.get(s),
        userId: s.user?.userId,
        ordersSubscribed: s.ordersSubscribed,
        hubClient: s.hubClient,
      })),

    relayOrder(_topic, payload) {
      let event: unknown;
      try {
        event = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
      } catch {
        stats.feedDropped.json++;
        return;
      }
      if (event === null || typeof event !== 'object' || Array.isArray(event)) {
        stats.feedDropped.not_object++;
        return;
      }
      const userId = (event as Record<string, unknown>)['user_id'];
      if (typeof userId !== 'string' && typeof userId !== 'number') return;
      const receivers = orderSubscribers.get(String(userId))?.sessions;
      if (!receivers || receivers.size === 0) return;
      // Null prototype: a `__proto__` key in the event stays a plain field.
      const out: Record<string, unknown> = Object.create(null);
      out['type'] = 'order_update';
      for (const [k, v] of Object.entries(event)) if (k !== 'type') out[k] = v;
      const text = JSON.stringify(out);
      for (const session of receivers) session.sendOrder(text);
    },

    stopAccepting() {
      accepting = false;
    },

    async close(graceMs) {
      accepting = false;
      clearInterval(heartbeat);
      // The upgrade listener stays: while the server drains, late upgrades get a clear 503.
      const open = [...sessions];
      const closed = Promise.all(open.map((s) => new Promise<void>((resolve) => {
        if (s.ws.readyState === s.ws.CLOSED) return resolve();
        s.ws.once('close', () => resolve());
      })));
      // A restart must strand no client (docs/protocol-notes.md, "Restarts"): an open connection is
      // cut without a close frame, which every client we know treats as a drop to recover from
      // (a browser reports wasClean false, code 1006; a close frame, whatever its code, reads as
      // clean and OpenAlgo's MarketDataManager would never come back). A connection already
      // closing, e.g. because its client asked to, finishes its handshake within the grace.
      for (const s of open) if (s.ws.readyState === s.ws.OPEN) s.ws.terminate();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      if (timer) clearTimeout(timer);
      for (const s of sessions) s.ws.terminate();
      wss.close();
    },
  };
}
