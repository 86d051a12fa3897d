import { type SchedulerAction, type SchedulerLike, Subscription } from 'rxjs';

interface Entry {
  readonly due: number;
  /** Scheduling order, so actions due at the same time run first-scheduled first. */
  readonly order: number;
  readonly action: ManualAction<unknown>;
  /** The action's token when this entry was queued; a later (re)schedule makes this entry stale. */
  readonly token: number;
}

class ManualAction<T> extends Subscription implements SchedulerAction<T> {
  token = 0;
  private state: T | undefined;

  constructor(
    private readonly scheduler: ManualScheduler,
    private readonly work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super();
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.state = state;
    this.scheduler.enqueue(this as ManualAction<unknown>, ++this.token, delay);
    return this;
  }

  run(): void {
    try {
      this.work(this.state);
    } catch (err) {
      this.unsubscribe();
      throw err;
    }
  }
}

/**
 * A virtual clock for benchmarks: `now()` only moves when {@link advanceTo} moves it, and
 * advancing runs every action that falls due, in due order. Unlike rxjs's `VirtualTimeScheduler`
 * (which re-sorts its whole queue on every `schedule`, O(n) with 10,000 open throttle windows) it
 * keeps a binary heap, so a schedule costs O(log n) — the same order as a real timer, and small
 * enough not to swamp the operators being measured. Cancelled and rescheduled actions are skipped
 * when they reach the top of the heap.
 *
 * @example
 * const scheduler = new ManualScheduler();
 * source$.pipe(throttleTime(100, scheduler)).subscribe(sink);
 * scheduler.advanceTo(100); // the window closes, the trailing value goes out
 */
export class ManualScheduler implements SchedulerLike {
  /** Timers scheduled so far (reschedules included): what would be real timers in production. */
  scheduled = 0;
  /** Calls to `now()` so far: what would be `Date.now()` calls in production. */
  reads = 0;
  private clock = 0;
  private nextOrder = 0;
  private readonly heap: Entry[] = [];

  now(): number {
    this.reads++;
    return this.clock;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    return new ManualAction<T>(this, work).schedule(state, delay);
  }

  /** Runs every action due at or before `time` (including ones they schedule), then sets `now()` to `time`. */
  advanceTo(time: number): void {
    const heap = this.heap;
    while (heap.length > 0 && (heap[0] as Entry).due <= time) {
      const entry = this.pop();
      if (entry.action.closed || entry.token !== entry.action.token) continue;
      this.clock = entry.due;
      entry.action.run();
    }
    if (time > this.clock) this.clock = time;
  }

  /** Actions queued, stale entries included. */
  get queued(): number {
    return this.heap.length;
  }

  /** @internal Used by actions. */
  enqueue(action: ManualAction<unknown>, token: number, delay: number): void {
    this.scheduled++;
    const entry: Entry = { due: this.clock + Math.max(0, delay), order: this.nextOrder++, action, token };
    const heap = this.heap;
    let i = heap.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent] as Entry)) break;
      heap[i] = heap[parent] as Entry;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): Entry {
    const heap = this.heap;
    const top = heap[0] as Entry;
    const last = heap.pop() as Entry;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right] as Entry, heap[left] as Entry) ? right : left;
      if (!before(heap[child] as Entry, last)) break;
      heap[i] = heap[child] as Entry;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.due < b.due || (a.due === b.due && a.order < b.order);
}
