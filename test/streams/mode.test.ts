import fc from 'fast-check';
import { InvalidModeError, isMode, modeLabel, parseMode } from '../../streams';

/** Fixed seeds: a failure found once is found again on every run. */
const RUNS = { seed: 4_242_017, numRuns: 500 } as const;

/** Runs `fn` and returns what it threw (failing the test when it did not throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('parseMode', () => {
  it.each([
    [1, 1],
    [2, 2],
    [3, 3],
    ['ltp', 1],
    [' Depth ', 3],
    ['QUOTE', 2],
    ['LTP', 1],
    ['Quote', 2],
    ['\tdepth\n', 3],
  ])('reads %p as mode %i', (value, mode) => {
    expect(parseMode(value)).toBe(mode);
  });

  it.each([[0], [4], [2.5], [-1], [NaN], [true], [null], ['1'], ['FOO'], [''], [undefined], [{}], [[1]], ['ltp2']])(
    'rejects %p with InvalidModeError, code INVALID_MODE',
    (value) => {
      const error = thrown(() => parseMode(value));
      expect(error).toBeInstanceOf(InvalidModeError);
      expect(error).toMatchObject({ code: 'INVALID_MODE', name: 'InvalidModeError', value });
      // The message says what to do.
      expect((error as Error).message).toContain('Use 1, 2, 3 or "LTP", "Quote", "Depth".');
    },
  );

  it('names the bad value in the message, shortened when long', () => {
    expect((thrown(() => parseMode('FOO')) as Error).message).toBe('Invalid mode: "FOO". Use 1, 2, 3 or "LTP", "Quote", "Depth".');
    expect((thrown(() => parseMode(4)) as Error).message).toBe('Invalid mode: 4. Use 1, 2, 3 or "LTP", "Quote", "Depth".');
    expect((thrown(() => parseMode('x'.repeat(100))) as Error).message).toBe(
      `Invalid mode: "${'x'.repeat(40)}…". Use 1, 2, 3 or "LTP", "Quote", "Depth".`,
    );
  });

  it('reads every letter-case and padding of a label', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(['ltp', 1], ['quote', 2], ['depth', 3]),
        fc.stringMatching(/^[ \t\n]{0,3}$/),
        fc.stringMatching(/^[ \t\n]{0,3}$/),
        fc.infiniteStream(fc.boolean()),
        ([label, mode], before, after, upper) => {
          const cased = [...(label as string)].map((c) => (upper.next().value ? c.toUpperCase() : c)).join('');
          expect(parseMode(before + cased + after)).toBe(mode);
        },
      ),
      RUNS,
    );
  });

  it('rejects every other string and every number but 1, 2 and 3', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 8 }), fc.double(), fc.integer()), (value) => {
        const valid =
          value === 1 ||
          value === 2 ||
          value === 3 ||
          (typeof value === 'string' && ['ltp', 'quote', 'depth'].includes(value.trim().toLowerCase()));
        fc.pre(!valid);
        expect(thrown(() => parseMode(value))).toBeInstanceOf(InvalidModeError);
      }),
      RUNS,
    );
  });
});

describe('isMode and modeLabel', () => {
  it('isMode is true for the integers 1, 2, 3 only', () => {
    expect([1, 2, 3, 0, 4, '1', 1.5, null].map(isMode)).toEqual([true, true, true, false, false, false, false, false]);
  });

  it('labels each mode as subscribe replies echo it', () => {
    expect([modeLabel(1), modeLabel(2), modeLabel(3)]).toEqual(['LTP', 'Quote', 'Depth']);
  });
});
