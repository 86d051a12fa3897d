import type { Socket } from 'node:net';
import type WebSocket from 'ws';

/**
 * The one place that reaches into `ws`'s private fields. The gateway writes pre-encoded frames
 * straight to the TCP socket when `ws` itself would write at once, and corks that socket around a
 * batch; both need what `ws` does not expose. test/gateway/wsInternals.test.ts checks these fields
 * against the installed `ws` and fails naming this module when an upgrade changes them.
 */
interface Internals {
  readonly _socket?: Socket;
  readonly _sender?: { readonly _bufferedBytes?: number };
}

/** The TCP socket under a `ws` WebSocket (`ws._socket`). */
export function socketOf(ws: WebSocket): Socket | undefined {
  return (ws as unknown as Internals)._socket;
}

/**
 * True when `ws` is open and its sender holds nothing queued (`ws._sender._bufferedBytes === 0`):
 * a raw write now keeps the order with `ws`'s own writes (replies, pings, the close frame).
 */
export function writesAtOnce(ws: WebSocket): boolean {
  return ws.readyState === 1 && (ws as unknown as Internals)._sender?._bufferedBytes === 0;
}
