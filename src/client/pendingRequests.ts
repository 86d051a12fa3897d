import type { TickcastServerError } from './errors';
import { answerTypeOf } from './frames';
import type { ServerFrame } from './types';

/** What to do with the answer to one request; a handler left out ignores that outcome. */
export interface AskHandlers {
  /** The answer came (a frame of the answer type, or echoing the request's id). */
  reply?(frame: ServerFrame, requestId: string): void;
  /** An error envelope answered it. */
  refused?(error: TickcastServerError): void;
  /** The connection closed (or the client stopped) before any answer. */
  dropped?(error: Error): void;
}

interface Pending extends AskHandlers {
  /** The `type` of the answer, to match servers that do not echo `request_id`. */
  readonly answerType: string;
}

/**
 * The requests waiting for their answers on one client: ids, matching an answer to its request (by
 * `request_id`, else the oldest request waiting for that answer `type`, as OpenAlgo does not echo
 * ids), and dropping them all when the connection goes.
 */
export class PendingRequests {
  private readonly waiting = new Map<string, Pending>();
  private lastId = 0;

  /** `send` puts a message on the current connection (or drops it when there is none). */
  constructor(private readonly send: (message: Record<string, unknown>) => void) {}

  /**
   * Sends `message` with a fresh `request_id` and remembers it until its answer; returns the id.
   * The answer's `type` is derived from the action unless `answerType` is given.
   */
  ask(message: { readonly action: string } & Record<string, unknown>, handlers: AskHandlers = {}): string {
    const requestId = `tc${++this.lastId}`;
    this.waiting.set(requestId, { answerType: answerTypeOf(message.action), ...handlers });
    this.send({ ...message, request_id: requestId });
    return requestId;
  }

  /** Forgets a request whose answer nobody waits for any more. */
  cancel(requestId: string): void {
    this.waiting.delete(requestId);
  }

  /** Hands an answer frame to its request (removing it); false when it answers none. */
  answer(frame: ServerFrame): boolean {
    let id: string | undefined;
    if (typeof frame.request_id === 'string') id = frame.request_id;
    else if (frame.request_id === undefined) {
      for (const [pendingId, pending] of this.waiting) {
        if (pending.answerType === frame.type) {
          id = pendingId;
          break;
        }
      }
    }
    const pending = id === undefined ? undefined : this.waiting.get(id);
    if (id === undefined || !pending) return false;
    this.waiting.delete(id);
    pending.reply?.(frame, id);
    return true;
  }

  /** Hands an error envelope that echoed `requestId` to its request (removing it); false when none waits. */
  refuse(error: TickcastServerError & { readonly requestId: string }): boolean {
    const pending = this.waiting.get(error.requestId);
    if (!pending) return false;
    this.waiting.delete(error.requestId);
    pending.refused?.(error);
    return true;
  }

  /** Every waiting request fails with `error`. */
  dropAll(error: Error): void {
    const pending = [...this.waiting.values()];
    this.waiting.clear();
    for (const p of pending) p.dropped?.(error);
  }
}
