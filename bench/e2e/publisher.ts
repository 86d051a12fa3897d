/**
 * The load generator: a ZeroMQ (X)PUB that connects to the proxy's (or floor's) SUB and publishes the
 * planned groups, paced evenly. Every loop turn (a 1 ms timer) it sends every tick that is due by
 * now, each stamped with its send time, so a late turn catches up instead of losing ticks; how late
 * it ran is reported, so a saturated generator shows.
 *
 * Driven over IPC by the orchestrator: `plan` (switch to new groups at a given time, counting what
 * is sent inside a window), `collect` (the counts of a plan), `stop`.
 */
import { XPublisher } from 'zeromq';
import { boundChild, childConfig, type IpcMessage, nowNs, serveParent, toParent } from './common';
import { groupRate, PayloadMaker, type TickGroup } from './feed';

export interface PublisherConfig {
  readonly endpoint: string;
  readonly maxLifetimeMs: number;
  /**
   * Report ready without waiting for the target's first subscription: a target that subscribes
   * only to the keys its clients hold (`--zmq-subscribe interest`) sends none before a client
   * subscribes.
   */
  readonly readyWithoutSubscription?: boolean;
}

/** One step of load: from `atNs` the publisher sends `groups` until the next plan or `untilNs`. */
export interface Plan {
  readonly id: number;
  readonly atNs: number;
  readonly untilNs: number;
  readonly groups: readonly TickGroup[];
  /** Ticks stamped inside [windowFromNs, windowToNs) are counted per group. */
  readonly windowFromNs: number;
  readonly windowToNs: number;
}

/** What a plan sent inside its window. */
export interface PlanReport {
  readonly id: number;
  /** Ticks sent in the window, per group (same order as the plan's groups). */
  readonly sentInWindow: readonly number[];
  /** Ticks the schedule called for in the window, all groups. */
  readonly scheduledInWindow: number;
  /** Worst lag behind schedule of a tick sent in the window, in ms. */
  readonly maxLagMs: number;
}

interface GroupState {
  readonly group: TickGroup;
  readonly maker: PayloadMaker;
  readonly periodNs: number;
  sent: number;
  inWindow: number;
}

interface Running {
  readonly plan: Plan;
  readonly groups: GroupState[];
  maxLagNs: number;
}

async function main(): Promise<void> {
  const config = childConfig<PublisherConfig>();
  boundChild(config.maxLifetimeMs);
  // An XPUB sees the SUB's subscription arrive: from then on nothing it sends is lost to ZeroMQ's
  // slow-joiner window. It may start before the target binds; ZeroMQ keeps retrying the connect.
  const socket = new XPublisher({ sendHighWaterMark: 1_000_000, linger: 0 });
  socket.connect(config.endpoint);

  const pending: Plan[] = [];
  const done = new Map<number, Running>();
  let current: Running | undefined;
  let stopped = false;

  const report = (run: Running): PlanReport => {
    const { plan } = run;
    const windowS = (plan.windowToNs - plan.windowFromNs) / 1e9;
    return {
      id: plan.id,
      sentInWindow: run.groups.map((g) => g.inWindow),
      scheduledInWindow: plan.groups.reduce((sum, g) => sum + groupRate(g) * windowS, 0),
      maxLagMs: run.maxLagNs / 1e6,
    };
  };

  serveParent((msg: IpcMessage) => {
    switch (msg.cmd) {
      case 'plan':
        pending.push(msg['plan'] as Plan);
        pending.sort((a, b) => a.atNs - b.atNs);
        return true;
      case 'collect': {
        const id = msg['planId'] as number;
        const run = current?.plan.id === id ? current : done.get(id);
        if (!run) throw new Error(`no plan ${id}`);
        return report(run);
      }
      case 'subscriptions':
        return { subscribed, unsubscribed, everything };
      case 'stop':
        stopped = true;
        return true;
      default:
        throw new Error(`unknown command ${String(msg.cmd)}`);
    }
  });

  // Subscriptions the target sent (XPUB hands them to the application): how many topics it asked
  // for shows whether it filters at the source. Read all the time so none pile up.
  let subscribed = 0;
  let unsubscribed = 0;
  let everything = 0;
  let firstSubscription: () => void = () => undefined;
  const subscribedOnce = new Promise<void>((resolve) => (firstSubscription = resolve));
  void (async () => {
    for await (const [msg] of socket) {
      const m = msg as Buffer;
      if (m[0] === 1) {
        subscribed++;
        if (m.length === 1) everything++;
      } else if (m[0] === 0) unsubscribed++;
      firstSubscription();
    }
  })().catch(() => undefined);
  if (config.readyWithoutSubscription !== true) await subscribedOnce;
  toParent({ event: 'ready' });

  while (!stopped) {
    const now = nowNs();
    while (pending.length > 0 && (pending[0] as Plan).atNs <= now) {
      const plan = pending.shift() as Plan;
      if (current) done.set(current.plan.id, current);
      current = {
        plan,
        maxLagNs: 0,
        groups: plan.groups.map((group) => ({
          group,
          maker: new PayloadMaker(group),
          periodNs: 1e9 / groupRate(group),
          sent: 0,
          inWindow: 0,
        })),
      };
    }
    const run = current;
    if (run && now < run.plan.untilNs) {
      const { plan } = run;
      for (const g of run.groups) {
        // A share of a group with fewer keys than publishers may be empty.
        if (g.group.keys === 0) continue;
        const scheduled = Math.floor((now - plan.atNs) / g.periodNs) + 1;
        const due = g.group.once === true ? Math.min(scheduled, g.group.keys) : scheduled;
        while (g.sent < due) {
          const k = g.sent % g.group.keys;
          const n = Math.floor(g.sent / g.group.keys);
          const stamp = nowNs();
          await socket.send([g.maker.topics[k] as string, g.maker.payload(k, n, stamp)]);
          if (stamp >= plan.windowFromNs && stamp < plan.windowToNs) {
            g.inWindow++;
            const lag = stamp - (plan.atNs + g.sent * g.periodNs);
            if (lag > run.maxLagNs) run.maxLagNs = lag;
          }
          g.sent++;
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  socket.close();
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`publisher failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
