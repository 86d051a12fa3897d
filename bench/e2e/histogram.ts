/** Range of {@link LatencyHistogram}: 1 µs buckets up to 2 s, then one overflow bucket. */
const BUCKETS = 2_000_000;

/**
 * Latencies in whole microseconds, counted per microsecond up to 2 s (one bucket beyond): O(1)
 * per sample, exact percentiles at that resolution, and cheap to merge across processes (sent as
 * sparse `[µs, count]` pairs).
 */
export class LatencyHistogram {
  private counts = new Uint32Array(BUCKETS + 1);
  count = 0;
  maxUs = 0;
  sumUs = 0;

  add(us: number): void {
    const b = us < 0 ? 0 : us >= BUCKETS ? BUCKETS : Math.floor(us);
    this.counts[b]!++;
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.maxUs = 0;
    this.sumUs = 0;
  }

  /** The value at or below which `p` percent of the samples lie, in µs; NaN when empty. */
  percentileUs(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let b = 0; b <= BUCKETS; b++) {
      seen += this.counts[b] as number;
      if (seen >= rank) return b === BUCKETS ? this.maxUs : b;
    }
    return this.maxUs;
  }

  toJSON(): SparseHistogram {
    const pairs: [number, number][] = [];
    for (let b = 0; b <= BUCKETS; b++) if (this.counts[b] !== 0) pairs.push([b, this.counts[b] as number]);
    return { pairs, count: this.count, maxUs: this.maxUs, sumUs: this.sumUs };
  }

  merge(other: SparseHistogram): void {
    for (const [b, n] of other.pairs) this.counts[b] = (this.counts[b] as number) + n;
    this.count += other.count;
    this.sumUs += other.sumUs;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }
}

/** A {@link LatencyHistogram} on the wire. */
export interface SparseHistogram {
  readonly pairs: readonly (readonly [number, number])[];
  readonly count: number;
  readonly maxUs: number;
  readonly sumUs: number;
}
