import { type Observable, ReplaySubject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { createTickcastClient, type TickcastClient, type TickcastClientOptions, type TickcastStatus } from '../../src/client';
import { FakeServer, type FakeServerOptions, GOOD_KEY } from './fakeServer';

/**
 * Backoff used by the client tests. With `random = () => 0.5` (half the jitter taken off) the
 * delays are 75, 150, 300, 600, then 750 (1000 capped, less 25 %) for ever.
 */
export const TEST_BACKOFF = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 } as const;

/**
 * Everything `source` emits from now on, replayed: lets a marble assertion see values emitted
 * synchronously while the test was still setting up (at frame 0).
 */
export function record<T>(source: Observable<T>): ReplaySubject<T> {
  const replay = new ReplaySubject<T>();
  source.subscribe(replay);
  return replay;
}

export interface Harness {
  readonly server: FakeServer;
  readonly client: TickcastClient;
  /** The client's `status$` from creation on. */
  readonly status: ReplaySubject<TickcastStatus>;
  /** Runs `work` at virtual time `ms`. */
  at(ms: number, work: () => void): void;
}

/** A client connected to a {@link FakeServer}, all in the virtual time of `scheduler`. */
export function harness(
  scheduler: TestScheduler,
  server: Partial<FakeServerOptions> = {},
  client: Partial<TickcastClientOptions> = {},
): Harness {
  const fake = new FakeServer({ scheduler, ...server });
  const created = createTickcastClient({
    url: 'ws://fake/ws',
    apiKey: GOOD_KEY,
    WebSocketCtor: fake.Ctor,
    backoff: TEST_BACKOFF,
    random: () => 0.5,
    scheduler,
    ...client,
  });
  return {
    server: fake,
    client: created,
    status: record(created.status$),
    at: (ms, work) => {
      scheduler.schedule(work, ms);
    },
  };
}

/** Status letters used in marbles. */
export const STATUS = { c: 'connecting', o: 'open', r: 'reconnecting', x: 'closed' } as const;

/** Log letters of a client that connects and subscribes `NSE:X` mode 1 (`e`: subscribes it again). */
export const X_LOG = {
  a: 'connect#0',
  b: 'authenticate#0',
  c: 'subscribe#0 1 NSE:X',
  d: 'unsubscribe#0 NSE:X:1',
  e: 'subscribe#0 1 NSE:X',
} as const;
