/** A subscription mode as the wire carries it: 1 = LTP, 2 = Quote, 3 = Depth. */
export type Mode = 1 | 2 | 3;

/** The label of each mode, as clients send it and as subscribe replies echo it. */
export type ModeLabel = 'LTP' | 'Quote' | 'Depth';

const LABELS: readonly ModeLabel[] = ['LTP', 'Quote', 'Depth'];

/** Thrown by {@link parseMode} for any value that is not a valid mode. */
export class InvalidModeError extends Error {
  readonly code = 'INVALID_MODE' as const;
  constructor(readonly value: unknown) {
    super(`Invalid mode: ${describe(value)}. Use 1, 2, 3 or "LTP", "Quote", "Depth".`);
    this.name = 'InvalidModeError';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** True for the integers 1, 2 and 3. */
export function isMode(value: unknown): value is Mode {
  return value === 1 || value === 2 || value === 3;
}

/**
 * Parses a mode as the protocol allows it: the integers 1, 2, 3, or the labels `LTP`, `Quote`,
 * `Depth` (case-insensitive, surrounding white space ignored). Everything else — `0`, `4`, `2.5`,
 * `true`, `null`, the string `"1"` — throws {@link InvalidModeError}.
 *
 * @example
 * parseMode(' depth '); // 3
 * parseMode(2);         // 2
 * parseMode('1');       // throws InvalidModeError
 */
export function parseMode(value: unknown): Mode {
  if (isMode(value)) return value;
  if (typeof value === 'string') {
    switch (value.trim().toLowerCase()) {
      case 'ltp':
        return 1;
      case 'quote':
        return 2;
      case 'depth':
        return 3;
    }
  }
  throw new InvalidModeError(value);
}

/**
 * The label of a mode: `modeLabel(1) === 'LTP'`.
 *
 * @example
 * modeLabel(3); // 'Depth'
 */
export function modeLabel(mode: Mode): ModeLabel {
  return LABELS[mode - 1] as ModeLabel;
}
