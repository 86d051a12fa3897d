import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { buildCli, CliProcess } from '../helpers/cliProcess';
import { Scope, sleep } from '../helpers/scope';
import { TestClient } from '../helpers/wsClient';

/** GET `url` → [status, body]; rejects when the server is gone. */
function probe(url: string): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve([res.statusCode ?? 0, body]));
    }).on('error', reject);
  });
}

/**
 * A WebSocket peer that completes the upgrade and then answers nothing. Told to {@link askToClose},
 * it sends its close frame and never ends its side of TCP: the server has to wait out its shutdown
 * grace for it, which keeps the draining window open.
 */
class SilentPeer {
  received = Buffer.alloc(0);
  /** Set when the server ended the TCP connection. */
  ended = false;
  private constructor(readonly socket: Socket) {
    socket.on('data', (b: Buffer) => (this.received = Buffer.concat([this.received, b])));
    socket.on('end', () => (this.ended = true));
    socket.on('close', () => (this.ended = true));
    socket.on('error', () => undefined);
  }

  /** Sends a masked close frame with `code` (a client asking to leave). */
  askToClose(code: number): void {
    const mask = Buffer.from([1, 2, 3, 4]);
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code);
    const masked = Buffer.from(body.map((b, i) => b ^ (mask[i % 4] as number)));
    this.socket.write(Buffer.concat([Buffer.from([0x88, 0x80 | body.length]), mask, masked]));
  }

  static async open(port: number): Promise<SilentPeer> {
    // Half-open allowed: a peer that asked to close must not end its TCP side when the server does.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const peer = new SilentPeer(socket);
    socket.write(
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    while (!peer.received.toString('latin1').includes('\r\n\r\n')) await sleep(10);
    expect(peer.received.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
    peer.received = peer.received.subarray(peer.received.indexOf('\r\n\r\n') + 4);
    return peer;
  }

  /** The close code of the first close frame the server sent, if any (server frames are unmasked). */
  closeCode(): number | undefined {
    for (let i = 0; i + 1 < this.received.length;) {
      const opcode = (this.received[i] as number) & 0x0f;
      const len = (this.received[i + 1] as number) & 0x7f;
      if (opcode === 0x8) return this.received.readUInt16BE(i + 2);
      i += 2 + len;
    }
    return undefined;
  }

  close(): void {
    this.socket.destroy();
  }
}

async function startServe(scope: Scope, graceMs: number): Promise<{ proc: CliProcess; http: string; port: number }> {
  const proc = scope.add(
    new CliProcess(['serve', '--port', '0', '--zmq-bind', 'tcp://127.0.0.1:*', '--shutdown-grace-ms', String(graceMs)], {
      TICKCAST_API_KEYS: 'shutdown-test-key',
    }),
  );
  await proc.waitFor(/"event":"listening"/);
  const http = proc.logLines().find((l) => l['event'] === 'listening')!['httpUrl'] as string;
  return { proc, http, port: Number(new URL(http).port) };
}

describe('graceful shutdown of tickcast serve', () => {
  const scope = new Scope();
  beforeAll(() => buildCli(), 120_000);
  afterAll(() => scope.close());

  it('on SIGTERM flips /readyz to 503 before exiting, refuses new clients, cuts open clients without a close frame, exits 0', async () => {
    const { proc, http, port } = await startServe(scope, 1500);
    expect(await probe(`${http}/readyz`)).toEqual([200, 'ready\n']);
    const open = scope.add(await SilentPeer.open(port));
    // A client that asked to close, whose TCP end never comes: the drain waits the grace for it.
    const leaving = scope.add(await SilentPeer.open(port));
    leaving.askToClose(1000);
    while (leaving.closeCode() === undefined) await sleep(10);

    proc.kill('SIGTERM');
    const seen: string[] = [];
    let refused: string | undefined;
    while (!proc.exit) {
      try {
        const [status, body] = await probe(`${http}/readyz`);
        seen.push(`${status} ${body.trim()}`);
        if (status === 503 && refused === undefined) {
          refused = await TestClient.open(http.replace('http:', 'ws:')).then(
            (c) => (c.ws.terminate(), 'accepted'),
            (err: Error) => err.message,
          );
        }
      } catch {
        break; // the server has closed its port
      }
      await sleep(10);
    }
    expect(seen).toContain('503 draining');
    expect(seen.slice(seen.indexOf('503 draining'))).not.toContain('200 ready');
    expect(refused).toMatch(/^upgrade refused with HTTP \d{3}$/);
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    // The open client got no close frame, so every client we know reconnects (protocol-notes.md).
    expect(open.closeCode()).toBeUndefined();
    expect(open.ended).toBe(true);
    // The one that asked to close got its own close answered, as the standard has it.
    expect(leaving.closeCode()).toBe(1000);
    expect(proc.logLines().map((l) => l['msg'])).toEqual(
      expect.arrayContaining(['shutting down: readiness off, closing clients and the feed', 'stopped']),
    );
    expect(proc.stderr).toBe('');
  }, 20_000);

  it('exits at once on a second signal while draining', async () => {
    const { proc, port } = await startServe(scope, 30_000);
    const leaving = scope.add(await SilentPeer.open(port));
    leaving.askToClose(1000);
    while (leaving.closeCode() === undefined) await sleep(10);
    proc.kill('SIGTERM');
    await proc.waitFor(/shutting down/);
    proc.kill('SIGINT');
    expect(await proc.exited).toEqual({ code: 130, signal: null });
    expect(proc.logLines().some((l) => l['msg'] === 'second signal: exiting now')).toBe(true);
  }, 20_000);
});
