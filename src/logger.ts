import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Paths pino blanks in every log line, whatever component logs them: API keys never reach a log. */
export const REDACT_PATHS = [
  'api_key',
  'apikey',
  'apiKey',
  'key',
  '*.api_key',
  '*.apikey',
  '*.apiKey',
  '*.key',
  'apiKeys',
  '*.apiKeys',
  'config.apiKeys',
  'msg.api_key',
  'msg.apikey',
];

export interface LoggerOptions {
  readonly level?: string;
  /** Human-readable output; default: when stdout is a terminal. */
  readonly pretty?: boolean;
  /** Where lines go; default stdout. Tests pass a stream to capture them. */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * The process logger: JSON lines by default, pretty when stdout is a terminal, API keys redacted.
 * Components take children: `logger.child({ component: 'gateway' })`.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const base = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  const pretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return options.destination ? pino(base, options.destination as pino.DestinationStream) : pino(base);
}

/** A logger that writes nothing: for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Logs a warning at most once per `intervalMs` per event name, with how many were suppressed in
 * between: for high-frequency events (bad feed messages) that must be visible but never flood.
 */
export class ThrottledLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(event: string, fields: Record<string, unknown>, message: string): void {
    const t = this.now();
    const seen = this.last.get(event);
    if (seen && t - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    this.logger.warn({ event, ...fields, suppressed: seen?.suppressed ?? 0 }, message);
    this.last.set(event, { at: t, suppressed: 0 });
  }
}
