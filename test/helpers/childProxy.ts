/**
 * The reliability tests' processes: a proxy in a child process (to measure its heap, descriptors and RSS, or to kill it), a publisher in a child
 * process (to kill it mid-stream), and a raw WebSocket client that reads as slowly as it is told.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { renameSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import type { ServeConfig } from '../../src/config';
import { ROOT } from './cliProcess';
import { ALICE, BOB, BROKER } from './proxy';
import type { ChildMeasure, ChildReady, ChildSample } from './proxyChild';

/** Inside the project, so the bundle's `require('zeromq')` resolves from node_modules. */
const CHILD_BUNDLE = join(ROOT, 'node_modules', '.cache', 'tickcast-reliability', 'proxyChild.js');
let bundled = false;

/** How a child process ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

function exitOf(child: ChildProcess): Promise<ChildExit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * The proxy as its own process (`node --expose-gc`), on 127.0.0.1 with a ZeroMQ bind on a free
 * loopback port, the shared test keys, and quiet logs unless overridden.
 */
export class ChildProxy {
  readonly exited: Promise<ChildExit>;
  stderr = '';
  private readonly waiting = new Map<string, ((value: unknown) => void)[]>();

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    /** The ZeroMQ endpoint publishers connect to. */
    readonly zmq: string,
  ) {
    this.exited = exitOf(child);
    child.on('message', (msg: Record<string, unknown>) => {
      for (const [type, value] of Object.entries(msg)) this.waiting.get(type)?.shift()?.(value);
    });
  }

  static async spawn(overrides: Partial<ServeConfig> = {}): Promise<ChildProxy> {
    if (!bundled) {
      // Jest workers bundle in parallel: each writes its own file and renames it into place
      // (atomic), so no worker ever starts a half-written bundle.
      const own = `${CHILD_BUNDLE}.${process.pid}`;
      buildSync({
        entryPoints: [join(__dirname, 'proxyChild.ts')],
        bundle: true,
        platform: 'node',
        target: 'node20',
        packages: 'external',
        format: 'cjs',
        outfile: own,
        logLevel: 'error',
      });
      renameSync(own, CHILD_BUNDLE);
      bundled = true;
    }
    const config = {
      apiKeys: [ALICE, BOB],
      broker: BROKER,
      host: '127.0.0.1',
      port: 0,
      zmqBind: 'tcp://127.0.0.1:*',
      statsIntervalS: 0,
      shutdownGraceMs: 200,
      logLevel: 'silent',
      ...overrides,
    };
    const child = spawn(process.execPath, ['--expose-gc', CHILD_BUNDLE, JSON.stringify(config)], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const ready = await new Promise<ChildReady>((resolve, reject) => {
      child.once('message', (msg: { ready?: ChildReady }) =>
        msg.ready ? resolve(msg.ready) : reject(new Error(`unexpected ${JSON.stringify(msg)}`)),
      );
      child.once('exit', (code) => reject(new Error(`proxy child exited with ${String(code)} before it was ready:\n${stderr}`)));
    });
    const proxy = new ChildProxy(child, ready.port, ready.zmq);
    child.stderr?.on('data', (s: string) => (proxy.stderr += s));
    return proxy;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  /** Heap after full GC, RSS, descriptors and the proxy's own counts, read in the child. */
  measure(): Promise<ChildMeasure> {
    return this.ask('measure') as Promise<ChildMeasure>;
  }

  /** RSS and counts without a GC: cheap enough to sample while traffic flows. */
  sample(): Promise<ChildSample> {
    return this.ask('sample') as Promise<ChildSample>;
  }

  /** Kills the process with `signal` and waits until it is gone. */
  async kill(signal: NodeJS.Signals): Promise<ChildExit> {
    this.child.kill(signal);
    return this.exited;
  }

  /** Asks the proxy to drain and exit; kills it if it has not within 5 s. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.send('close');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  private ask(type: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(type) ?? [];
      list.push(resolve);
      this.waiting.set(type, list);
      this.child.send(type, (err) => err && reject(err));
    });
  }
}

/**
 * A broker adapter in a process of its own that publishes `{"ltp":n,"t":<epoch ms>}` on each of
 * `topics` every `everyMs` (n counts up from 1 per process), until it is killed.
 */
export class ChildPublisher {
  readonly exited: Promise<ChildExit>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = exitOf(child);
  }

  static spawn(endpoint: string, topics: readonly string[], everyMs: number): ChildPublisher {
    const script = `
      const { Publisher } = require('zeromq');
      const [endpoint, topics, everyMs] = JSON.parse(process.argv[1]);
      const pub = new Publisher({ linger: 0 });
      pub.connect(endpoint);
      let n = 0;
      (async () => {
        for (;;) {
          n++;
          for (const topic of topics) await pub.send([topic, JSON.stringify({ ltp: n, t: Date.now() })]);
          await new Promise((r) => setTimeout(r, everyMs));
        }
      })();`;
    const child = spawn(process.execPath, ['-e', script, JSON.stringify([endpoint, topics, everyMs])], { cwd: ROOT, stdio: 'ignore' });
    return new ChildPublisher(child);
  }

  /** Dies the way a crashed adapter does: no goodbye. */
  async kill(): Promise<ChildExit> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * A WebSocket client on a bare TCP socket, so the test decides how fast it reads: not at all
 * ({@link stall}) or a fixed number of bytes per second ({@link readAt}). It only sends (masked
 * text frames) and counts what it read; it does not parse server frames.
 */
export class RawWsClient {
  bytesRead = 0;
  /** Resolves when the TCP connection is gone (the server cut it). */
  readonly closed: Promise<void>;
  private timer: NodeJS.Timeout | undefined;

  private constructor(private readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<RawWsClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const key = createHash('sha1').update(String(Math.random())).digest('base64').slice(0, 22) + '==';
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    // Read exactly the handshake response, byte by byte, so no frame is consumed with it.
    socket.pause();
    let head = '';
    while (!head.endsWith('\r\n\r\n')) {
      const b = socket.read(1) as Buffer | null;
      if (b === null) await new Promise((resolve) => socket.once('readable', resolve));
      else head += b.toString('latin1');
    }
    if (!head.startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${head.split('\r\n')[0]}`);
    return new RawWsClient(socket);
  }

  /** Sends `msg` as one masked text frame (mask key 0: the payload goes as is, which is allowed). */
  send(msg: unknown): void {
    const payload = Buffer.from(JSON.stringify(msg), 'utf8');
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x81, 0x80 | len]) : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff]);
    if (len > 0xffff) throw new Error('frame too long for this helper');
    this.socket.write(Buffer.concat([head, Buffer.alloc(4), payload]));
  }

  /** Stops reading for good: the server's writes pile up in the kernel, then in its own buffer. */
  stall(): void {
    this.socket.pause();
  }

  /** Reads at most `bytesPerSecond`, in ten slices a second. */
  readAt(bytesPerSecond: number): void {
    this.socket.pause();
    const slice = Math.max(1, Math.round(bytesPerSecond / 10));
    this.timer = setInterval(() => {
      const chunk = this.socket.read(Math.min(slice, this.socket.readableLength || slice)) as Buffer | null;
      if (chunk) this.bytesRead += chunk.length;
    }, 100);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.socket.destroy();
  }
}

/** The `p`-th percentile (0..100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}
