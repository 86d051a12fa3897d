import { TickcastServerError } from '../../src/client/errors';
import { PendingRequests } from '../../src/client/pendingRequests';
import type { ServerFrame } from '../../src/client/types';

/** A PendingRequests whose sent messages and handler calls are recorded in order. */
function setup(): { pending: PendingRequests; sent: Record<string, unknown>[]; log: string[]; handlers: (name: string) => object } {
  const sent: Record<string, unknown>[] = [];
  const log: string[] = [];
  const pending = new PendingRequests((m) => sent.push(m));
  const handlers = (name: string): object => ({
    reply: (frame: ServerFrame, id: string) => log.push(`${name} reply ${String(frame.type)} ${id}`),
    refused: (error: TickcastServerError) => log.push(`${name} refused ${error.code}`),
    dropped: (error: Error) => log.push(`${name} dropped ${error.message}`),
  });
  return { pending, sent, log, handlers };
}

describe('PendingRequests', () => {
  it('sends each request with a fresh request_id', () => {
    const { pending, sent } = setup();
    expect([pending.ask({ action: 'ping' }), pending.ask({ action: 'subscribe', mode: 1 })]).toStrictEqual(['tc1', 'tc2']);
    expect(sent).toStrictEqual([
      { action: 'ping', request_id: 'tc1' },
      { action: 'subscribe', mode: 1, request_id: 'tc2' },
    ]);
  });

  it('matches an answer by its request_id, else the oldest request waiting for its type (OpenAlgo echoes no id)', () => {
    const { pending, log, handlers } = setup();
    pending.ask({ action: 'ping' }, handlers('a'));
    pending.ask({ action: 'ping' }, handlers('b'));
    pending.ask({ action: 'authenticate' }, handlers('c'));
    expect(pending.answer({ type: 'pong', request_id: 'tc2' })).toBe(true);
    expect(pending.answer({ type: 'pong' })).toBe(true);
    expect(pending.answer({ type: 'auth' })).toBe(true);
    expect(pending.answer({ type: 'pong' })).toBe(false);
    expect(log).toStrictEqual(['b reply pong tc2', 'a reply pong tc1', 'c reply auth tc3']);
  });

  it('hands an error envelope to the request it echoes, once', () => {
    const { pending, log, handlers } = setup();
    pending.ask({ action: 'subscribe' }, handlers('a'));
    const error = new TickcastServerError('INVALID_PARAMETERS', 'x', 'tc1') as TickcastServerError & { requestId: string };
    expect(pending.refuse(error)).toBe(true);
    expect(pending.refuse(error)).toBe(false);
    expect(log).toStrictEqual(['a refused INVALID_PARAMETERS']);
  });

  it('drops every waiting request, and forgets a cancelled one', () => {
    const { pending, log, handlers } = setup();
    pending.ask({ action: 'ping' }, handlers('a'));
    const cancelled = pending.ask({ action: 'ping' }, handlers('b'));
    pending.ask({ action: 'get_broker_info' }, handlers('c'));
    pending.cancel(cancelled);
    pending.dropAll(new Error('gone'));
    pending.dropAll(new Error('again'));
    expect(log).toStrictEqual(['a dropped gone', 'c dropped gone']);
  });
});
