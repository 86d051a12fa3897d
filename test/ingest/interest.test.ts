/** TopicInterest: the hub's interest as socket subscriptions, ref-counted, cancelled after a grace. */
import { type GraceTimers, TopicInterest } from '../../src/ingest/interest';

/** Timers in virtual time: `advance(ms)` fires what is due, in order. */
class VirtualTimers implements GraceTimers {
  now = 0;
  private readonly due = new Map<number, { at: number; fn: () => void }>();
  private next = 0;
  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.due.set(id, { at: this.now + ms, fn });
    return id;
  }
  clear(handle: unknown): void {
    this.due.delete(handle as number);
  }
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const first = [...this.due.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!first) break;
      this.due.delete(first[0]);
      this.now = first[1].at;
      first[1].fn();
    }
    this.now = until;
  }
}

function setup(graceMs = 2000): { interest: TopicInterest; timers: VirtualTimers; log: string[] } {
  const log: string[] = [];
  const timers = new VirtualTimers();
  const interest = new TopicInterest(
    { subscribe: (t) => log.push(`${timers.now} +${t}`), unsubscribe: (t) => log.push(`${timers.now} -${t}`) },
    graceMs,
    timers,
  );
  return { interest, timers, log };
}

describe('TopicInterest', () => {
  it('subscribes the topics of modes m..3 for a lowest held mode m', () => {
    const { interest, log } = setup();
    interest.symbol('NSE', 'RELIANCE', 2);
    interest.symbol('NSE_INDEX', 'NIFTY', 1);
    interest.symbol('MCX', 'GOLD', 3);
    expect(log).toStrictEqual([
      '0 +NSE_RELIANCE_QUOTE',
      '0 +NSE_RELIANCE_DEPTH',
      '0 +NSE_INDEX_NIFTY_LTP',
      '0 +NSE_INDEX_NIFTY_QUOTE',
      '0 +NSE_INDEX_NIFTY_DEPTH',
      '0 +MCX_GOLD_DEPTH',
    ]);
  });

  it('adds LTP at once when the lowest mode drops to 1, and cancels it 2 s after it rises again', () => {
    const { interest, timers, log } = setup();
    interest.symbol('NSE', 'TCS', 2);
    interest.symbol('NSE', 'TCS', 1);
    timers.advance(1000);
    interest.symbol('NSE', 'TCS', 2);
    timers.advance(1999);
    expect(log).toStrictEqual(['0 +NSE_TCS_QUOTE', '0 +NSE_TCS_DEPTH', '0 +NSE_TCS_LTP']);
    timers.advance(1);
    expect(log.slice(3)).toStrictEqual(['3000 -NSE_TCS_LTP']);
  });

  it('cancels every topic of a symbol 2 s after its last holder left', () => {
    const { interest, timers, log } = setup();
    interest.symbol('NSE', 'TCS', 1);
    interest.symbol('NSE', 'TCS', 0);
    timers.advance(5000);
    expect(log.slice(3)).toStrictEqual(['2000 -NSE_TCS_LTP', '2000 -NSE_TCS_QUOTE', '2000 -NSE_TCS_DEPTH']);
    expect(interest.wanted()).toStrictEqual([]);
  });

  it('does not flap: a holder back within the grace costs no cancel and no second subscribe', () => {
    const { interest, timers, log } = setup();
    interest.symbol('NSE', 'TCS', 3);
    interest.symbol('NSE', 'TCS', 0);
    timers.advance(1500);
    interest.symbol('NSE', 'TCS', 3);
    timers.advance(10_000);
    expect(log).toStrictEqual(['0 +NSE_TCS_DEPTH']);
  });

  it('ref-counts order topics: cancelled only after the last of two interests left', () => {
    const { interest, timers, log } = setup(0);
    interest.orders(['zerodha_alice_orders', 'ANALYZE_alice_orders'], true);
    interest.orders(['zerodha_alice_orders'], true);
    interest.orders(['zerodha_alice_orders', 'ANALYZE_alice_orders'], false);
    timers.advance(1);
    expect(log).toStrictEqual(['0 +zerodha_alice_orders', '0 +ANALYZE_alice_orders', '0 -ANALYZE_alice_orders']);
    interest.orders(['zerodha_alice_orders'], false);
    expect(log.slice(3)).toStrictEqual(['1 -zerodha_alice_orders']);
  });

  it('ignores a repeated mode and a release of what it never held', () => {
    const { interest, log } = setup();
    interest.symbol('NSE', 'TCS', 2);
    interest.symbol('NSE', 'TCS', 2);
    interest.symbol('NSE', 'INFY', 0);
    interest.orders(['x_orders'], false);
    expect(log).toStrictEqual(['0 +NSE_TCS_QUOTE', '0 +NSE_TCS_DEPTH']);
  });
});
