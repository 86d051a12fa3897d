#!/usr/bin/env node
import {
  buildServeConfig,
  collectApiKeys,
  ConfigError,
  formatHelp,
  type OptionSpec,
  parseArgs,
  resolveOptions,
  SERVE_OPTIONS,
} from './config';
import type { Logger } from './logger';
import { bridgeCommand } from './nats/command';
import { SIM_OPTIONS } from './sim/options';

/** Where the CLI reads and writes; the process's own by default, captured streams in tests. */
export interface CliIO {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Help text and the demo's plain banner lines. */
  readonly stdout: NodeJS.WritableStream;
  /** Usage and configuration errors. */
  readonly stderr: NodeJS.WritableStream;
  /** Where log lines go; default: stdout, pretty when it is a terminal. */
  readonly logDestination?: NodeJS.WritableStream;
  /** Subscribes to shutdown signals; returns the unsubscribe. Default: SIGTERM and SIGINT. */
  readonly onSignal?: (handler: (signal: NodeJS.Signals) => void) => () => void;
  /** Ends the process at once (second signal, shutdown past its deadline). Default `process.exit`. */
  readonly exit?: (code: number) => void;
}

/** A running command: it stops when asked. */
export interface Service {
  readonly logger: Logger;
  /** How long {@link close} may take before the process exits anyway, in ms. */
  readonly closeDeadlineMs: number;
  close(): Promise<void>;
}

/** What a command's `start` gets besides its options. */
export interface CommandContext {
  readonly io: CliIO;
  /** The process logger at `level` (API keys redacted). */
  logger(level: string): Logger;
}

/** One `tickcast` command. Adding a command is adding one of these to {@link COMMANDS}. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly options: readonly OptionSpec[];
  /** Starts the command with its resolved options; throws {@link ConfigError} for bad config. */
  start(opts: Record<string, unknown>, ctx: CommandContext): Promise<Service>;
}

/** Exit codes: 0 done, 1 failed at run time, 2 bad usage or configuration. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const byName = (names: readonly string[]): OptionSpec[] => names.map((name) => SERVE_OPTIONS.find((s) => s.name === name) as OptionSpec);

/** `tickcast sim` runs alone: the simulator's options plus logging. */
export const SIM_COMMAND_OPTIONS: readonly OptionSpec[] = [...SIM_OPTIONS, ...byName(['log-level', 'stats-interval-s'])];

/**
 * `tickcast demo`: every `serve` option (the dashboard on by default) plus the simulator's, except
 * the simulator's `--zmq-connect`: in the demo it connects to the endpoint the proxy bound.
 */
export const DEMO_OPTIONS: readonly OptionSpec[] = [
  ...SERVE_OPTIONS.map((s) => (s.name === 'dashboard' ? { ...s, default: true } : s)),
  ...SIM_OPTIONS.filter((s) => s.name !== 'zmq-connect'),
];

/** Shutdown allowance beyond the clients' grace: the feed and the HTTP server close after them. */
const CLOSE_SLACK_MS = 500;

const serve: Command = {
  name: 'serve',
  summary: 'the production proxy: ZeroMQ feed in, OpenAlgo-compatible WebSocket clients out',
  options: SERVE_OPTIONS,
  async start(opts, ctx) {
    const config = buildServeConfig(opts, collectApiKeys(opts));
    const logger = ctx.logger(config.logLevel);
    const [{ startProxy }, { timed }] = await Promise.all([import('./server'), import('./statsLog')]);
    const proxy = await timed(logger, 'startup', () => startProxy({ config, logger }));
    logger.info(
      { event: 'listening', wsUrl: proxy.wsUrl, httpUrl: proxy.httpUrl, feed: proxy.feed.describe(), apiKeys: config.apiKeys.length },
      `tickcast serving WebSocket clients on ${proxy.wsUrl}; feed ${proxy.feed.describe()}`,
    );
    return {
      logger,
      closeDeadlineMs: config.shutdownGraceMs + CLOSE_SLACK_MS,
      close: () => timed(logger, 'shutdown', () => proxy.close()),
    };
  },
};

const demo: Command = {
  name: 'demo',
  summary: 'the proxy plus a simulated broker feed in one process (what `npm start` runs)',
  options: DEMO_OPTIONS,
  async start(opts, ctx) {
    const { startDemo } = await import('./demo');
    return startDemo(opts, ctx);
  },
};

const sim: Command = {
  name: 'sim',
  summary: "the simulated broker feed alone: a ZeroMQ PUB that connects to a proxy's SUB (ours or OpenAlgo's)",
  options: SIM_COMMAND_OPTIONS,
  async start(opts, ctx) {
    const { buildSimConfig, startSimulator } = await import('./sim');
    const config = buildSimConfig(opts);
    const logger = ctx.logger(opts['log-level'] as string);
    const publisher = startSimulator(config, logger.child({ component: 'sim' }));
    logger.info(
      { seed: config.seed, rate: config.rate, burst: config.burst, depthLevels: config.depthLevels },
      `simulator publishing to ${config.zmqConnect}`,
    );
    const intervalS = opts['stats-interval-s'] as number;
    let last = 0;
    const timer =
      intervalS > 0
        ? setInterval(() => {
            logger.info({ event: 'stats', sent: publisher.sent - last }, 'stats');
            last = publisher.sent;
          }, intervalS * 1000)
        : undefined;
    timer?.unref();
    return {
      logger,
      closeDeadlineMs: 1000,
      close: async () => {
        clearInterval(timer);
        await publisher.close();
      },
    };
  },
};

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [serve, demo, sim, bridgeCommand];

/** The top-level `tickcast --help`. */
export function formatUsage(commands: readonly Command[] = COMMANDS): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: tickcast <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `tickcast <command> --help` for its options. Every option also reads a TICKCAST_* env var.',
  ].join('\n');
}

/** The `--help` of one command. */
export function formatCommandHelp(command: Command): string {
  return formatHelp(`Usage: tickcast ${command.name} [options]\n\n${command.summary}`, command.options);
}

function processSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}

/**
 * Runs `tickcast <argv>` and resolves with the exit code: at once for `--help` and errors, after a
 * shutdown signal for the long-running commands. The first SIGTERM/SIGINT drains (readiness off,
 * open clients cut so they reconnect, feed closed); a second exits at once.
 */
export async function main(argv: readonly string[], io: CliIO, commands: readonly Command[] = COMMANDS): Promise<number> {
  const say = (stream: NodeJS.WritableStream, text: string): void => void stream.write(text.endsWith('\n') ? text : text + '\n');
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    say(name === undefined ? io.stderr : io.stdout, formatUsage(commands));
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    say(io.stderr, `tickcast: unknown command "${name}". Commands: ${commands.map((c) => c.name).join(', ')}. Run tickcast --help.`);
    return EXIT_USAGE;
  }

  let service: Service;
  try {
    const { raw, help, rest: positional } = parseArgs(rest, command.options);
    if (help) {
      say(io.stdout, formatCommandHelp(command));
      return EXIT_OK;
    }
    if (positional.length > 0)
      throw new ConfigError(`Unexpected argument "${positional[0]}". Options start with --; run tickcast ${name} --help.`);
    const opts = resolveOptions(command.options, raw, io.env);
    // Loaded here, not at the top: `--help` and usage errors should not wait for pino.
    const { createLogger } = await import('./logger');
    service = await command.start(opts, {
      io,
      logger: (level) => createLogger({ level, destination: io.logDestination }),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      say(io.stderr, `tickcast ${name}: ${err.message}`);
      return EXIT_USAGE;
    }
    say(io.stderr, `tickcast ${name}: could not start: ${startupHint(err)}`);
    return EXIT_FAILED;
  }
  const { watchEventLoop } = await import('./statsLog');
  return untilStopped(service, io, watchEventLoop);
}

/** Waits for a shutdown signal, then closes `service`: the exit code of the shutdown. */
function untilStopped(service: Service, io: CliIO, watchEventLoop: (logger: Logger) => () => void): Promise<number> {
  const exit = io.exit ?? ((code: number) => process.exit(code));
  const { logger } = service;
  const stopWatching = watchEventLoop(logger.child({ component: 'process' }));
  return new Promise<number>((resolve) => {
    let stopping = false;
    const off = (io.onSignal ?? processSignals)((signal) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        exit(signal === 'SIGINT' ? 130 : 143);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'shutting down: readiness off, closing clients and the feed');
      const deadline = setTimeout(() => {
        logger.error({ deadlineMs: service.closeDeadlineMs }, 'shutdown did not finish in time; exiting');
        exit(EXIT_FAILED);
      }, service.closeDeadlineMs);
      service.close().then(
        () => {
          clearTimeout(deadline);
          stopWatching();
          off();
          logger.info('stopped');
          resolve(EXIT_OK);
        },
        (err: unknown) => {
          clearTimeout(deadline);
          stopWatching();
          off();
          logger.error({ err }, 'shutdown failed');
          resolve(EXIT_FAILED);
        },
      );
    });
  });
}

/** A startup failure's message, with what to do about the usual ones. */
export function startupHint(err: unknown): string {
  const e = err as { code?: string; message?: string; address?: string; port?: number };
  const message = e?.message ?? String(err);
  if (e?.code === 'EADDRINUSE')
    return `${message}: another process uses that port; stop it or pick another with --port (0 = any free port).`;
  if (/ZeroMQ/.test(message) && /in use/i.test(message)) {
    return `${message}: another process (another proxy?) bound that ZeroMQ endpoint; stop it or pick another with --zmq-bind.`;
  }
  return message;
}

if (require.main === module) {
  main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then((code) => {
    process.exitCode = code;
    // Exit even if some library keeps a handle open; a clean loop exits sooner on its own.
    setTimeout(() => process.exit(code), 200).unref();
  });
}
