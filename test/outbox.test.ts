import type WebSocket from 'ws';
import { Outbox } from '../src/gateway/outbox';
import { wsTextFrame } from '../src/frames';
import type { Frame, Slot } from '../src/hub';
import { Stats } from '../src/stats';

/** The part of a ws socket the outbox uses: what it was sent, and nothing buffered. */
function recordingSocket(): { ws: WebSocket; sent: Buffer[] } {
  const sent: Buffer[] = [];
  const ws = { bufferedAmount: 0, send: (data: Buffer) => sent.push(data) } as unknown as WebSocket;
  return { ws, sent };
}

const slot = (symbol: string): Slot => ({ exchange: 'NSE', symbol, mode: 2 });
const frame = (symbol: string, seq: number): Frame => ({
  slot: slot(symbol),
  seq,
  bytes: Buffer.from(`{"type":"market_data","symbol":"${symbol}","seq":${seq}}`),
});

describe('Outbox batched delivery', () => {
  const limits = { softBytes: 1 << 20, hardBytes: 1 << 22, maxSlowMs: 10_000 };
  const outboxes: Outbox[] = [];
  const make = (): { outbox: Outbox; sent: Buffer[] } => {
    const { ws, sent } = recordingSocket();
    const outbox = new Outbox(ws, limits, new Stats(), () => undefined);
    outbox.setBatchMs(5000);
    outboxes.push(outbox);
    return { outbox, sent };
  };
  afterEach(() => outboxes.splice(0).forEach((o) => o.dispose()));

  it('encodes one batch for every client of the window that got the very same frames', () => {
    const [a, b, c] = [make(), make(), make()];
    const f1 = frame('TCS', 1);
    const f2 = frame('INFY', 1);
    for (const { outbox } of [a, b]) [f1, f2].forEach((f) => outbox.sendFrame(f));
    c.outbox.sendFrame(f2); // other subscriptions: other frames

    const shared = a.outbox.flushBatch();
    b.outbox.flushBatch(shared);
    c.outbox.flushBatch(shared);

    expect(a.sent).toHaveLength(1);
    expect(b.sent[0]).toBe(a.sent[0]); // the same Buffer, not an equal copy
    expect(JSON.parse((a.sent[0] as Buffer).toString())).toStrictEqual({
      type: 'market_data_batch',
      ticks: [
        { type: 'market_data', symbol: 'TCS', seq: 1 },
        { type: 'market_data', symbol: 'INFY', seq: 1 },
      ],
    });
    expect(c.sent[0]).not.toBe(a.sent[0]);
    expect(JSON.parse((c.sent[0] as Buffer).toString())['ticks']).toStrictEqual([{ type: 'market_data', symbol: 'INFY', seq: 1 }]);
  });

  it('sends nothing for a window without updates', () => {
    const a = make();
    expect(a.outbox.flushBatch()).toBeUndefined();
    expect(a.sent).toEqual([]);
  });
});

/** ws's frame parser (exported by the package at run time; its types do not declare it). */
interface WsReceiver {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  write(chunk: Buffer): void;
}
const { Receiver } = require('ws') as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => WsReceiver };

describe('wsTextFrame', () => {
  // Parsed by ws's own receiver, as a client would: every length encoding of RFC 6455 §5.2.
  it.each([0, 1, 125, 126, 127, 65_535, 65_536, 70_000])('frames a %i-byte payload as one final, unmasked text message', (n) => {
    const payload = Buffer.alloc(n, 'a');
    const got: { data: Buffer; isBinary: boolean }[] = [];
    const receiver = new Receiver({ isServer: false, maxPayload: 1 << 20 });
    receiver.on('message', (data: Buffer, isBinary: boolean) => got.push({ data, isBinary }));
    const frame = wsTextFrame(payload);
    receiver.write(frame);
    expect(frame[0]).toBe(0x81);
    expect(frame[1]! & 0x80).toBe(0);
    expect(frame.length).toBe(n + (n < 126 ? 2 : n < 65_536 ? 4 : 10));
    expect(got).toHaveLength(1);
    expect(got[0]!.isBinary).toBe(false);
    expect(Buffer.compare(got[0]!.data, payload)).toBe(0);
  });
});

describe('Outbox limits within one cork batch', () => {
  /**
   * A ws whose TCP socket the outbox writes raw: corked writes wait, counted in `bufferedAmount`;
   * on uncork they leave at once (a peer that reads) or stay (a peer that stopped reading).
   */
  function corkableSocket(peerReads: boolean) {
    let corks = 0;
    let waiting = 0;
    const written: Buffer[] = [];
    const counts = { bufferedReads: 0 };
    const socket = {
      destroyed: false,
      cork: () => corks++,
      uncork: () => {
        if (corks > 0) corks--;
        if (corks === 0 && peerReads) waiting = 0;
      },
      write: (chunk: Buffer) => {
        written.push(chunk);
        waiting += chunk.length;
        if (corks === 0 && peerReads) waiting = 0;
        return true;
      },
    };
    const ws = {
      readyState: 1,
      extensions: '',
      _socket: socket,
      _sender: { _bufferedBytes: 0 },
      get bufferedAmount() {
        counts.bufferedReads++;
        return waiting;
      },
      send: () => undefined,
      close: () => undefined,
      terminate: () => undefined,
    } as unknown as WebSocket;
    return { ws, written, counts };
  }

  /** A frame of exactly 100 bytes on the wire (2 of WebSocket header). */
  const sized = (symbol: string): Frame => {
    const head = `{"type":"market_data","symbol":"${symbol}","pad":"`;
    return { slot: slot(symbol), seq: 1, bytes: Buffer.from(`${head}${'x'.repeat(98 - head.length - 2)}"}`) };
  };
  const limits = { softBytes: 1000, hardBytes: 1 << 22, maxSlowMs: 10_000 };
  const outboxes: Outbox[] = [];
  afterEach(() => outboxes.splice(0).forEach((o) => o.dispose()));
  const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

  it('conflates from the frame that finds the soft limit passed, as when it looked per frame, reading the buffer a few times a batch', async () => {
    const { ws, written, counts } = corkableSocket(false);
    const outbox = new Outbox(ws, limits, new Stats(), () => undefined);
    outboxes.push(outbox);
    for (let i = 0; i < 30; i++) outbox.sendFrame(sized(`S${i}`));
    // 10 frames fill the 1000 bytes, the 11th is written while exactly at the limit, the 12th finds it passed.
    expect(written).toHaveLength(11);
    expect(written.every((w) => w.length === 100)).toBe(true);
    expect(outbox.slow).toBe(true);
    expect(counts.bufferedReads).toBeLessThan(15);
    await nextTick();
  });

  it('writes every frame of a large batch to a peer that reads: the cork is released when the budget runs out, not the client marked slow', async () => {
    const { ws, written } = corkableSocket(true);
    const outbox = new Outbox(ws, limits, new Stats(), () => undefined);
    outboxes.push(outbox);
    for (let i = 0; i < 30; i++) outbox.sendFrame(sized(`S${i}`));
    expect(written).toHaveLength(30);
    expect(outbox.slow).toBe(false);
    await nextTick();
  });
});
