/**
 * What one kept key costs (issue 14): N fresh LTP keys through the real pipeline (`marketTicks` →
 * `Hub.publish`), no client, and the heap (plus external memory) after full collections, before
 * and after. Reports bytes per key, and that minus the key's last payload (the payload text the
 * hub keeps for snapshots): the structures' share, whose target is ≤ 400 bytes.
 *
 *   npx esbuild bench/memoryPerKey.ts --bundle --platform=node --external:zeromq --outfile=/tmp/memoryPerKey.js
 *   node --expose-gc /tmp/memoryPerKey.js [keys=99000]
 *
 * Topics and payloads are built as the feed reader builds them (a topic string, the payload as
 * bytes), outside the measured window where they are not kept. Prints one markdown table.
 */
import { Subject } from 'rxjs';
import { marketTicks, type RawTick } from '../streams';
import { Hub } from '../src/hub';
import { ManualScheduler } from './lib/manualScheduler';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('run with node --expose-gc\n');
  process.exit(2);
}

function settle(): number {
  for (let i = 0; i < 4; i++) gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

interface Row {
  readonly kind: string;
  readonly payloadBytes: number;
  /** Right after each key's first tick: the throttle still holds its window. */
  readonly justTicked: number;
  /** Once the throttle has forgotten the key (60 s idle): what a key kept for snapshots costs. */
  readonly kept: number;
}

/** Keys ticked before the measured window. */
const WARM = 500;

function measure(kind: string, keys: number, payloadOf: (i: number) => string): Row {
  const raw$ = new Subject<RawTick>();
  const hub = new Hub({ broker: 'bench', maxKeys: keys * 2 });
  // Virtual time from an epoch-ms start, so the throttle's window ends are the doubles they are live.
  const scheduler = new ManualScheduler();
  const start = Date.now();
  scheduler.advanceTo(start);
  const sub = raw$.pipe(marketTicks({ throttleMs: 100, maxKeys: keys * 2, scheduler })).subscribe((tick) => hub.publish(tick));
  // Warm-up keys: the maps' fixed costs and the code's first allocations stay out of the figure.
  for (let i = 0; i < WARM; i++) raw$.next({ topic: `WARM_W${i}_LTP`, payload: Buffer.from(payloadOf(i)) });
  let payloadBytes = 0;
  const before = settle();
  for (let i = 0; i < keys; i++) {
    // As the feed reader makes them: a flat topic string and the payload as bytes, per message.
    const topic = Buffer.from(`NSE_SYM${100000 + i}_LTP`, 'latin1').toString('latin1');
    const payload = Buffer.from(payloadOf(i));
    payloadBytes += payload.length;
    raw$.next({ topic, payload });
  }
  const justTicked = settle();
  // Past the throttle's idle time; the next new key makes it sweep its idle keys away.
  scheduler.advanceTo(start + 61_000);
  raw$.next({ topic: 'WARM_LAST_LTP', payload: Buffer.from(payloadOf(0)) });
  const kept = settle();
  if (hub.stats().keys !== keys + WARM + 1) throw new Error(`expected ${keys + WARM + 1} keys, hub has ${hub.stats().keys}`);
  sub.unsubscribe();
  return { kind, payloadBytes: payloadBytes / keys, justTicked: (justTicked - before) / keys, kept: (kept - before) / keys };
}

const keys = Number(process.argv[2] ?? 99_000);
const rows = [
  measure('LTP', keys, (i) => `{"ltp":${1000 + (i % 997) / 10},"ltt":1746171226000}`),
  measure(
    'Quote',
    keys,
    (i) => `{"ltp":${1000 + (i % 997) / 10},"open":1001.5,"high":1010,"low":995.25,"close":1000,"volume":${i},"ltt":1746171226000}`,
  ),
];
process.stdout.write(`## Memory per kept key (${keys.toLocaleString('en')} keys, node ${process.version})\n\n`);
process.stdout.write(
  '| payload | payload bytes | per key, just ticked | structures, just ticked | per key, kept | structures, kept |\n|---|---:|---:|---:|---:|---:|\n',
);
for (const r of rows) {
  const cells = [r.payloadBytes, r.justTicked, r.justTicked - r.payloadBytes, r.kept, r.kept - r.payloadBytes].map((n) => n.toFixed(0));
  process.stdout.write(`| ${r.kind} | ${cells.join(' | ')} |\n`);
}
process.stdout.write(
  '\n"Just ticked": right after each key\'s first tick, the per-key throttle still holding its window. "Kept": once the ' +
    'throttle has forgotten the key (60 s without a tick), what a key kept for snapshots costs until --key-idle-s. ' +
    '"Structures" = per key − its payload bytes (the payload text the hub keeps for the snapshot).\n',
);
