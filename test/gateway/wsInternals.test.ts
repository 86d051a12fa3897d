/**
 * Pins the private `ws` fields src/gateway/wsInternals.ts reads, against the installed `ws`: a
 * `ws` upgrade that renames or drops one fails here, naming the module to fix, instead of silently
 * turning off the gateway's raw write path and corking.
 */
import { Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { socketOf, writesAtOnce } from '../../src/gateway/wsInternals';

const MODULE = 'src/gateway/wsInternals.ts';

/** Fails loudly, naming the module, when `ok` is false. */
function pin(ok: boolean, what: string): void {
  if (!ok) throw new Error(`The installed ws changed ${what}: update ${MODULE} (and this test) to the new ws internals.`);
}

describe('ws internals the gateway relies on', () => {
  let wss: WebSocketServer;
  let server: WebSocket;
  let client: WebSocket;

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const port = (wss.address() as { port: number }).port;
    const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    client = new WebSocket(`ws://127.0.0.1:${port}/`);
    await new Promise<void>((resolve, reject) => client.once('open', () => resolve()).once('error', reject));
    server = await accepted;
  });

  afterAll(async () => {
    client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  it('ws._socket is the connection’s TCP socket', () => {
    const socket = socketOf(server);
    pin(socket instanceof Socket, 'ws._socket (no longer a net.Socket)');
    expect(socket?.remotePort).toBe((socketOf(client) as Socket).localPort);
  });

  it('ws._sender._bufferedBytes is a number, 0 on an idle open socket', () => {
    const sender = (server as unknown as { _sender?: { _bufferedBytes?: unknown } })._sender;
    pin(sender !== undefined && typeof sender._bufferedBytes === 'number', 'ws._sender._bufferedBytes');
    expect(writesAtOnce(server)).toBe(true);
  });

  it('writesAtOnce is false once the socket is no longer open', async () => {
    const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
    server.close(1000, 'done');
    expect(writesAtOnce(server)).toBe(false);
    await closed;
  });
});
