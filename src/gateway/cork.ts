import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { socketOf } from './wsInternals';

const corked = new Set<Socket>();
/** Counts the batches: every cork {@link corkUntilTick} takes is released when it moves on. */
let turn = 0;

function uncorkAll(): void {
  turn++;
  for (const socket of corked) if (!socket.destroyed) socket.uncork();
  corked.clear();
}

/**
 * The current batch of work: a socket {@link corkUntilTick} corked in this batch stays corked while
 * this number stays the same, unless {@link uncorkNow} released it.
 */
export function corkTurn(): number {
  return turn;
}

/**
 * Corks a client's TCP socket until the current batch of work is done (the next `process.nextTick`
 * after it, which runs once the ingest loop's microtasks have drained): every frame the batch sends
 * to that client leaves in ONE `writev` instead of one write syscall per frame. `ws` corks around
 * each frame itself; nested corks just hold the data until this outer one is released.
 */
export function corkUntilTick(ws: WebSocket): void {
  const socket = socketOf(ws);
  if (socket === undefined || corked.has(socket)) return;
  socket.cork();
  if (corked.size === 0) process.nextTick(uncorkAll);
  corked.add(socket);
}

/**
 * Releases `ws`'s batch cork now, when {@link corkUntilTick} holds one: what the batch has written
 * so far goes to the kernel at once. Returns true when there was a cork to release.
 */
export function uncorkNow(ws: WebSocket): boolean {
  const socket = socketOf(ws);
  if (socket === undefined || !corked.delete(socket)) return false;
  if (!socket.destroyed) socket.uncork();
  return true;
}

/** True while `socket` holds the cork {@link corkUntilTick} took for the current batch. */
export function corkedByBatch(socket: Socket): boolean {
  return corked.has(socket);
}
