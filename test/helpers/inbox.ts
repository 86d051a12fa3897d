interface Waiter<T> {
  readonly predicate: (item: T) => boolean;
  readonly resolve: (item: T) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Items that arrive asynchronously (frames on a socket, frames from a hub client), queued in
 * arrival order. {@link next} takes the first queued or future item that matches and leaves the
 * others queued, so a test can wait for one reply while ticks keep arriving.
 */
export class Inbox<T> {
  private readonly queue: T[] = [];
  private readonly waiters: Waiter<T>[] = [];
  private ended: string | undefined;

  /** @param noun what an item is, for timeout messages (`frame`, `tick`). */
  constructor(private readonly noun = 'item') {}

  /** Queues an item, or hands it to the first waiter it matches. */
  push(item: T): void {
    const i = this.waiters.findIndex((w) => w.predicate(item));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1) as [Waiter<T>];
      clearTimeout(w.timer);
      w.resolve(item);
      return;
    }
    this.queue.push(item);
  }

  /** No more items will come: pending and later waits fail with `why`. */
  end(why: string): void {
    this.ended = why;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`${why} while waiting for a ${this.noun}`));
    }
  }

  /**
   * The first queued or future item that matches (any item when no predicate). Rejects after
   * `timeoutMs`, showing what was queued.
   */
  next(predicate: (item: T) => boolean = () => true, timeoutMs = 3000): Promise<T> {
    const i = this.queue.findIndex(predicate);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0] as T);
    if (this.ended !== undefined) return Promise.reject(new Error(`${this.ended}; no matching ${this.noun} queued`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          const seen = this.queue.slice(0, 5).map((m) => JSON.stringify(m).slice(0, 200));
          reject(new Error(`no matching ${this.noun} within ${timeoutMs} ms; queued (${this.queue.length}): ${seen.join(' | ')}`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Takes every item queued now. */
  drain(): T[] {
    return this.queue.splice(0);
  }

  /** Removes the queued items that match; returns how many. */
  discard(predicate: (item: T) => boolean): number {
    const before = this.queue.length;
    const keep = this.queue.filter((item) => !predicate(item));
    this.queue.splice(0, this.queue.length, ...keep);
    return before - keep.length;
  }

  /** Items queued now, without taking them. */
  peek(): readonly T[] {
    return this.queue;
  }
}
