import type { Socket } from 'node:net';
import type WebSocket from 'ws';

const corked = new Set<Socket>();

function uncorkAll(): void {
  for (const socket of corked) if (!socket.destroyed) socket.uncork();
  corked.clear();
}

/**
 * Corks a client's TCP socket until the current batch of work is done (the next `process.nextTick`
 * after it, which runs once the ingest loop's microtasks have drained): every frame the batch sends
 * to that client leaves in ONE `writev` instead of one write syscall per frame. `ws` corks around
 * each frame itself; nested corks just hold the data until this outer one is released.
 */
export function corkUntilTick(ws: WebSocket): void {
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  if (socket === undefined || corked.has(socket)) return;
  socket.cork();
  if (corked.size === 0) process.nextTick(uncorkAll);
  corked.add(socket);
}
