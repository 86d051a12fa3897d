/** A repeated measurement: every sample, and the median the tables report. */
export interface Figure {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

/** The median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Summarises samples as a {@link Figure}. */
export function figure(samples: readonly number[]): Figure {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples: [...samples] };
}

/**
 * How far the samples stray from their median, as a percentage of it: `(max - min) / median`.
 * A large spread on a shared machine says "read this figure loosely".
 */
export function spreadPct(fig: Figure): number {
  return fig.median > 0 ? ((fig.max - fig.min) / fig.median) * 100 : 0;
}

/** A number with at most `digits` significant digits, no exponent for everyday magnitudes. */
export function round(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return value.toFixed(decimals);
}

/** A count with thousands separators: `1234567` → `1,234,567`. */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
