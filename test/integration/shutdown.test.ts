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
 * A WebSocket peer that completes the upgrade and then never answers anything, not even a close
 * frame: the server has to wait out its shutdown grace, which keeps the draining window open.
 */
class SilentPeer {
  received = Buffer.alloc(0);
  private constructor(readonly socket: Socket) {
    socket.on('data', (b: Buffer) => (this.received = Buffer.concat([this.received, b])));
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<SilentPeer> {
    const socket = connect(port, '127.0.0.1');
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
    for (let i = 0; i + 1 < this.received.length; ) {
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

  it('on SIGTERM flips /readyz to 503 before exiting, refuses new clients, closes clients with 1001, exits 0', async () => {
    const { proc, http, port } = await startServe(scope, 1500);
    expect(await probe(`${http}/readyz`)).toEqual([200, 'ready\n']);
    const peer = scope.add(await SilentPeer.open(port));

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
    expect(peer.closeCode()).toBe(1001);
    expect(proc.logLines().map((l) => l['msg'])).toEqual(expect.arrayContaining(['shutting down: readiness off, closing clients and the feed', 'stopped']));
    expect(proc.stderr).toBe('');
  }, 20_000);

  it('exits at once on a second signal while draining', async () => {
    const { proc, port } = await startServe(scope, 30_000);
    scope.add(await SilentPeer.open(port));
    proc.kill('SIGTERM');
    await proc.waitFor(/shutting down/);
    proc.kill('SIGINT');
    expect(await proc.exited).toEqual({ code: 130, signal: null });
    expect(proc.logLines().some((l) => l['msg'] === 'second signal: exiting now')).toBe(true);
  }, 20_000);
});
