import { readFileSync } from 'node:fs';
import { DEFAULT_TWO_SEGMENT_EXCHANGES } from '../streams/topic';
import type { ZmqEngine } from './ingest/zmq';
import { parseZmtpEndpoint } from './ingest/zmtp';

/** A configured API key: who it belongs to and which broker label that user sees. */
export interface ApiKey {
  readonly key: string;
  readonly userId: string;
  readonly broker: string;
}

/** Thrown for bad configuration; the message names the flag and says what to do. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Kind = 'string' | 'int' | 'number' | 'bool' | 'list';

/** One command-line option: its flag, its env var, its default and what it means. */
export interface OptionSpec {
  /** The flag without its dashes: `max-depth` is `--max-depth`. */
  readonly name: string;
  readonly kind: Kind;
  readonly help: string;
  readonly default?: string | number | boolean | readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
  /** Value placeholder in --help, e.g. ENDPOINT. */
  readonly arg?: string;
  /** Env var, when it is not the derived `TICKCAST_<NAME>`. */
  readonly env?: string;
}

/**
 * A row of an option table: the option, keyed in the table by the config field it fills. A row with
 * `field: false` has no field of its own; a rule in the config builder reads it (`--api-key` and
 * `--api-keys-file` become `apiKeys`).
 */
export interface OptionRow extends OptionSpec {
  readonly field?: false;
}

/** A table of options: config field → row. Declare it `as const satisfies OptionTable`. */
export type OptionTable = Readonly<Record<string, OptionRow>>;

/** What each kind parses to. */
interface KindValue {
  string: string;
  int: number;
  number: number;
  bool: boolean;
  list: readonly string[];
}

/** The parsed value of a row: one of its `choices`, else what its `kind` parses to. */
type RowValue<R> = R extends { readonly choices: readonly (infer C)[] }
  ? C
  : R extends { readonly kind: infer K extends Kind }
    ? KindValue[K]
    : never;

/** The config of a table: a field per row (rows with `field: false` have none); no default → may be undefined. */
export type ConfigOf<T extends OptionTable> = {
  readonly [F in keyof T as T[F] extends { readonly field: false } ? never : F]: T[F] extends { readonly default: unknown }
    ? RowValue<T[F]>
    : RowValue<T[F]> | undefined;
};

/** The rows of a table in declaration order, for parsing and `--help`. */
export function optionsOf(table: OptionTable): readonly OptionSpec[] {
  return Object.freeze(Object.values(table));
}

/** The config fields of a table, copied from options resolved by {@link resolveOptions}. */
export function fieldsOf<T extends OptionTable>(table: T, opts: Record<string, unknown>): ConfigOf<T> {
  const out: Record<string, unknown> = {};
  for (const [field, row] of Object.entries(table)) if (row.field !== false) out[field] = opts[row.name];
  // resolveOptions typed and checked every value by its row, which is what ConfigOf<T> says.
  return out as ConfigOf<T>;
}

/** The env var of an option: `--max-depth` → `TICKCAST_MAX_DEPTH`. */
export function envName(name: string, spec?: Pick<OptionSpec, 'env'>): string {
  return spec?.env ?? 'TICKCAST_' + name.toUpperCase().replace(/-/g, '_');
}

/** The port OpenAlgo's adapters publish to, suggested when an endpoint names none. */
const DEFAULT_ZMQ_PORT = 5555;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Every option of `tickcast serve`, each said once: the key is its {@link ServeConfig} field, the
 * row its flag, env var (`TICKCAST_<FLAG>` unless `env` says otherwise), parser (`kind`, `min`,
 * `max`, `choices`), default and help. Adding an option is adding a row; its field, type, parsing,
 * `--help` line and env var follow. `demo` takes these plus the simulator's.
 */
export const SERVE_TABLE = {
  host: { name: 'host', kind: 'string', default: '127.0.0.1', help: 'address the WebSocket/HTTP server listens on' },
  port: { name: 'port', kind: 'int', default: 8765, min: 0, max: 65535, help: 'WebSocket/HTTP port (0 = any free port)' },
  zmqBind: {
    name: 'zmq-bind',
    kind: 'string',
    arg: 'ENDPOINT',
    help: 'endpoint the ZeroMQ SUB binds; publishers connect (default tcp://127.0.0.1:5555 unless --zmq-connect is given)',
  },
  zmqConnect: { name: 'zmq-connect', kind: 'list', arg: 'ENDPOINT', default: [], help: 'endpoint of a publisher that binds; repeatable' },
  zmqEngine: {
    name: 'zmq-engine',
    kind: 'string',
    default: 'zmtp',
    choices: ['zmtp', 'libzmq'],
    help: 'what reads the ZeroMQ socket: zmtp = the built-in ZMTP 3.0 reader (tcp:// and ipc://, NULL security; about half the CPU per message), libzmq = the zeromq package (any transport)',
  },
  zmqRcvHwm: {
    name: 'zmq-rcvhwm',
    kind: 'int',
    default: 100_000,
    min: 0,
    help: 'libzmq engine: ZeroMQ receive high-water mark, in messages',
  },
  zmqReadIntervalMs: {
    name: 'zmq-read-interval-ms',
    kind: 'number',
    default: 0,
    min: 0,
    max: 50,
    help: 'libzmq engine: pause after draining the ZeroMQ queue before reading again (batches a feed that trickles one message at a time, at the cost of that much latency); 0 = wake as soon as a message arrives',
  },
  zmqMaxMessageBytes: {
    name: 'zmq-max-message-bytes',
    kind: 'int',
    default: 1_048_576,
    min: 256,
    help: 'largest frame (topic or payload) a publisher may send; a larger one closes its connection (libzmq engine: ZMQ_MAXMSGSIZE)',
  },
  zmqMaxPublishers: {
    name: 'zmq-max-publishers',
    kind: 'int',
    default: 256,
    min: 1,
    help: 'zmtp engine: publisher connections on the bound endpoint; one more is closed at once',
  },
  zmqMaxPartialBytes: {
    name: 'zmq-max-partial-bytes',
    kind: 'int',
    default: 67_108_864,
    min: 1024,
    help: 'zmtp engine: bytes held in unfinished messages over all publisher connections; past it the connection holding the most is closed',
  },
  zmqSubscribe: {
    name: 'zmq-subscribe',
    kind: 'string',
    default: 'all',
    choices: ['all', 'interest'],
    help: 'what the SUB subscribes: all = every topic; interest = only the topics some client could receive (publishers filter at the source)',
  },
  zmqInterestGraceMs: {
    name: 'zmq-interest-grace-ms',
    kind: 'int',
    default: 2000,
    min: 0,
    max: 600_000,
    help: 'with --zmq-subscribe interest: how long a topic no client needs stays subscribed, so unsubscribe/resubscribe does not flap',
  },
  control: {
    name: 'control',
    kind: 'string',
    arg: 'ENDPOINT',
    help: 'endpoint a feed host binds (docs/control.md, e.g. tcp://127.0.0.1:5556): API keys are verified and subscriptions placed through it; --api-key becomes optional',
  },
  controlTimeoutMs: {
    name: 'control-timeout-ms',
    kind: 'int',
    default: 5000,
    min: 100,
    max: 600_000,
    help: 'with --control: how long a control request may wait for its reply (OpenAlgo: 60000, a broker adapter connecting takes that long)',
  },
  controlHealthIntervalMs: {
    name: 'control-health-interval-ms',
    kind: 'int',
    default: 2000,
    min: 100,
    max: 600_000,
    help: "with --control: how often the feed host's health is polled",
  },
  nats: { name: 'nats', kind: 'string', arg: 'URL', help: 'take the feed from NATS (published by `tickcast bridge`) instead of ZeroMQ' },
  apiKeySpecs: {
    name: 'api-key',
    kind: 'list',
    arg: 'KEY[:USER[:BROKER]]',
    default: [],
    env: 'TICKCAST_API_KEYS',
    field: false,
    help: 'an API key clients authenticate with; repeatable',
  },
  apiKeysFile: {
    name: 'api-keys-file',
    kind: 'string',
    arg: 'FILE',
    field: false,
    help: 'JSON file of keys: [{"key","user_id","broker"}] or {"KEY":{"user_id","broker"}}',
  },
  broker: { name: 'broker', kind: 'string', default: 'tickcast', help: 'broker label for keys that name none' },
  throttleMs: {
    name: 'throttle-ms',
    kind: 'int',
    default: 100,
    min: 0,
    max: 60_000,
    help: 'per-key throttle window; 0 disables throttling',
  },
  maxDepth: { name: 'max-depth', kind: 'int', default: 50, min: 1, max: 1000, help: 'book levels kept per side' },
  authGraceS: {
    name: 'auth-grace-s',
    kind: 'number',
    default: 15,
    min: 0.01,
    help: 'seconds a client may stay unauthenticated before close 4401',
  },
  pingIntervalS: {
    name: 'ping-interval-s',
    kind: 'number',
    default: 20,
    min: 0.01,
    help: 'seconds between protocol pings; no pong within one interval terminates',
  },
  maxFrameBytes: {
    name: 'max-frame-bytes',
    kind: 'int',
    default: 1_048_576,
    min: 64,
    help: 'largest inbound frame; larger closes with 1009',
  },
  maxSubscriptions: {
    name: 'max-subscriptions',
    kind: 'int',
    default: 10_000,
    min: 1,
    help: '(symbol, mode) subscriptions per connection',
  },
  maxClients: { name: 'max-clients', kind: 'int', default: 10_000, min: 1, help: 'connections; more are refused with 1013' },
  controlRate: { name: 'control-rate', kind: 'number', default: 100, min: 0.01, help: 'control messages per second per connection' },
  controlBurst: { name: 'control-burst', kind: 'int', default: 200, min: 1, help: 'control messages a connection may send in a burst' },
  floodCloseS: { name: 'flood-close-s', kind: 'number', default: 5, min: 0.01, help: 'seconds of sustained flooding before close 1008' },
  staleAfterS: {
    name: 'stale-after-s',
    kind: 'number',
    default: 30,
    min: 0.01,
    help: 'feed silence after which adapter_status reports stale',
  },
  maxKeys: {
    name: 'max-keys',
    kind: 'int',
    default: 250_000,
    min: 1,
    help: 'feed keys (exchange, symbol, mode) kept with their last tick; past it the least recently ticked keys no client holds are forgotten',
  },
  keyIdleS: {
    name: 'key-idle-s',
    kind: 'number',
    default: 86_400,
    min: 1,
    help: 'seconds without a tick after which a key no client holds is forgotten',
  },
  slowSoftBytes: {
    name: 'slow-soft-bytes',
    kind: 'int',
    default: 262_144,
    min: 1,
    help: "buffered bytes past which a client's updates are conflated per key",
  },
  slowHardBytes: {
    name: 'slow-hard-bytes',
    kind: 'int',
    default: 4_194_304,
    min: 1,
    help: 'buffered bytes past which a client is closed with 1008',
  },
  slowMaxS: {
    name: 'slow-max-s',
    kind: 'number',
    default: 10,
    min: 0.01,
    help: 'seconds over the soft limit before a client is closed with 1008',
  },
  perMessageDeflate: {
    name: 'per-message-deflate',
    kind: 'bool',
    default: false,
    help: 'enable permessage-deflate (costs CPU per frame per client)',
  },
  booksAsDepth: {
    name: 'books-as-depth',
    kind: 'bool',
    default: true,
    help: 'deliver bids/asks books as depth {buy, sell} (what OpenAlgo clients read)',
  },
  omitBooksBelowDepth: {
    name: 'omit-books-below-depth',
    kind: 'bool',
    default: true,
    help: 'leave book arrays out of Depth ticks sent to LTP/Quote-only clients',
  },
  twoSegmentExchanges: {
    name: 'two-segment-exchanges',
    kind: 'list',
    default: DEFAULT_TWO_SEGMENT_EXCHANGES,
    help: 'exchanges spelled as two topic segments; repeatable or comma-separated',
  },
  dashboard: { name: 'dashboard', kind: 'bool', default: false, help: 'serve the demo dashboard page at GET /' },
  logLevel: { name: 'log-level', kind: 'string', default: 'info', choices: LOG_LEVELS, help: 'pino log level' },
  statsIntervalS: { name: 'stats-interval-s', kind: 'number', default: 30, min: 0, help: 'seconds between summary log lines (0 = none)' },
  shutdownGraceMs: {
    name: 'shutdown-grace-ms',
    kind: 'int',
    default: 1500,
    min: 0,
    max: 60_000,
    help: 'time clients get to close on shutdown before they are cut',
  },
} as const satisfies OptionTable;

/** Options of `tickcast serve` in `--help` order: the rows of {@link SERVE_TABLE}. */
export const SERVE_OPTIONS: readonly OptionSpec[] = optionsOf(SERVE_TABLE);

/**
 * Everything `tickcast serve` (and `demo`) runs with: a field per row of {@link SERVE_TABLE}, plus
 * the API keys its `--api-key` / `--api-keys-file` rows give. Parsed once, validated, frozen.
 */
export interface ServeConfig extends ConfigOf<typeof SERVE_TABLE> {
  readonly apiKeys: readonly ApiKey[];
}

// The table's engine choices are the engines the feed knows, both ways.
const ENGINES_MATCH: [ServeConfig['zmqEngine'], ZmqEngine] extends [ZmqEngine, ServeConfig['zmqEngine']] ? true : never = true;
void ENGINES_MATCH;

/** Raw values by option name, as given on the command line or in env, before typing. */
type Raw = Map<string, string[]>;

/**
 * Parses `--flag value`, `--flag=value`, `--bool`, `--no-bool` against `specs`. Unknown flags and
 * missing values are errors naming the flag. Returns the raw strings per option and positionals.
 */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): { raw: Raw; help: boolean; rest: string[] } {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const raw: Raw = new Map();
  const rest: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let spec = byName.get(name);
    if (!spec && name.startsWith('no-') && byName.get(name.slice(3))?.kind === 'bool' && value === undefined) {
      name = name.slice(3);
      spec = byName.get(name);
      value = 'false';
    }
    if (!spec) throw new ConfigError(`Unknown option --${name}. Run with --help to see the options.`);
    if (value === undefined) {
      if (spec.kind === 'bool') value = 'true';
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--'))
          throw new ConfigError(`Option --${name} needs a value (${spec.arg ?? spec.kind}).`);
        value = next;
        i++;
      }
    }
    const list = raw.get(name) ?? [];
    list.push(value);
    raw.set(name, list);
  }
  return { raw, help, rest };
}

/**
 * Resolves every option: flag beats env (`TICKCAST_*`) beats default. Values are typed and checked;
 * a bad one throws {@link ConfigError} naming the flag and its env var.
 */
export function resolveOptions(
  specs: readonly OptionSpec[],
  raw: Raw,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    const fromFlag = raw.get(spec.name);
    const fromEnv = env[envName(spec.name, spec)];
    let values: string[] | undefined = fromFlag;
    let source = `--${spec.name}`;
    if (!values && fromEnv !== undefined && fromEnv !== '') {
      values = spec.kind === 'list' ? fromEnv.split(',') : [fromEnv];
      source = envName(spec.name, spec);
    }
    if (!values) {
      out[spec.name] = spec.default;
      continue;
    }
    out[spec.name] = typed(spec, values, source);
  }
  return out;
}

function typed(spec: OptionSpec, values: string[], source: string): unknown {
  const last = (values[values.length - 1] as string).trim();
  const where = source.startsWith('--') ? `${source} (env ${envName(spec.name, spec)})` : `${source} (flag --${spec.name})`;
  switch (spec.kind) {
    case 'list':
      return values
        .flatMap((v) => v.split(','))
        .map((v) => v.trim())
        .filter((v) => v.length > 0);
    case 'bool': {
      const v = last.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      throw new ConfigError(`${where} must be true or false, got "${last}".`);
    }
    case 'int':
    case 'number': {
      const n = Number(last);
      if (last === '' || !Number.isFinite(n) || (spec.kind === 'int' && !Number.isInteger(n))) {
        throw new ConfigError(`${where} must be ${spec.kind === 'int' ? 'a whole number' : 'a number'}, got "${last}".`);
      }
      if (spec.min !== undefined && n < spec.min) throw new ConfigError(`${where} must be at least ${spec.min}, got ${n}.`);
      if (spec.max !== undefined && n > spec.max) throw new ConfigError(`${where} must be at most ${spec.max}, got ${n}.`);
      return n;
    }
    case 'string':
      if (spec.choices && !spec.choices.includes(last)) {
        throw new ConfigError(`${where} must be one of ${spec.choices.join(', ')}, got "${last}".`);
      }
      if (last === '') throw new ConfigError(`${where} must not be empty.`);
      return last;
  }
}

/** Parses `KEY[:USER[:BROKER]]`. */
export function parseApiKeySpec(spec: string, broker: string): ApiKey {
  const [key = '', userId, keyBroker] = spec.split(':');
  if (key.trim() === '') throw new ConfigError('--api-key needs a key: --api-key KEY[:USER[:BROKER]].');
  return { key: key.trim(), userId: userId?.trim() || 'user', broker: keyBroker?.trim() || broker };
}

/** Reads an API keys file: `[{"key","user_id","broker"}]` or `{"KEY": {"user_id","broker"}}`. */
export function readApiKeysFile(file: string, broker: string): ApiKey[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`--api-keys-file ${file} could not be read as JSON: ${(err as Error).message}`);
  }
  const entries: [string, unknown][] = Array.isArray(parsed)
    ? parsed.map((e) => [String((e as { key?: unknown })?.key ?? ''), e])
    : parsed !== null && typeof parsed === 'object'
      ? Object.entries(parsed as Record<string, unknown>)
      : [];
  if (entries.length === 0) {
    throw new ConfigError(`--api-keys-file ${file} holds no keys; expected [{"key":"...","user_id":"...","broker":"..."}].`);
  }
  return entries.map(([key, e], i) => {
    if (!key) throw new ConfigError(`--api-keys-file ${file}: entry ${i} has no "key".`);
    const o = (e !== null && typeof e === 'object' ? e : {}) as Record<string, unknown>;
    const userId = o['user_id'] ?? o['userId'];
    const b = o['broker'];
    return { key, userId: typeof userId === 'string' && userId ? userId : 'user', broker: typeof b === 'string' && b ? b : broker };
  });
}

/** Options that give API keys, for the "no key" error and for demo's generated key. */
export function collectApiKeys(opts: Record<string, unknown>): ApiKey[] {
  const broker = opts['broker'] as string;
  const keys = (opts['api-key'] as string[]).map((s) => parseApiKeySpec(s, broker));
  const file = opts['api-keys-file'] as string | undefined;
  if (file) keys.push(...readApiKeysFile(file, broker));
  return keys;
}

/**
 * Builds the frozen serve configuration from resolved options: a field per {@link SERVE_TABLE}
 * row, then the rules across options: at least one API key unless a feed host verifies them
 * (`--control`; demo passes the key it generates), a `--control` endpoint that can be dialled, no
 * key twice, the ZeroMQ endpoints ({@link zmqEndpoints}), soft < hard slow-client limits.
 */
export function buildServeConfig(opts: Record<string, unknown>, apiKeys: readonly ApiKey[]): ServeConfig {
  const control = opts['control'] as string | undefined;
  if (apiKeys.length === 0 && control === undefined) {
    throw new ConfigError(
      'No API key configured: clients could not authenticate. Add one with --api-key KEY[:USER[:BROKER]], ' +
        '--api-keys-file FILE, or TICKCAST_API_KEYS=KEY1,KEY2, or verify keys through a feed host with --control ENDPOINT.',
    );
  }
  if (control !== undefined && !/^(tcp:\/\/.+:\d+|ipc:\/\/.+)$/.test(control)) {
    throw new ConfigError(
      `--control "${control}" is not an endpoint a feed host can bind: use tcp://HOST:PORT (e.g. tcp://127.0.0.1:5556) or ipc://PATH.`,
    );
  }
  const seen = new Set<string>();
  for (const k of apiKeys) {
    if (seen.has(k.key))
      throw new ConfigError('The same API key is configured twice (--api-key / --api-keys-file / TICKCAST_API_KEYS); keep one.');
    seen.add(k.key);
  }
  const fields = fieldsOf(SERVE_TABLE, opts);
  const { slowSoftBytes: soft, slowHardBytes: hard } = fields;
  if (soft >= hard) throw new ConfigError(`--slow-soft-bytes (${soft}) must be smaller than --slow-hard-bytes (${hard}).`);
  const { zmqBind, zmqConnect, zmqEngine } = zmqEndpoints(opts);
  const config: ServeConfig = {
    ...fields,
    zmqBind,
    zmqConnect,
    zmqEngine,
    apiKeys: apiKeys.map((k) => Object.freeze({ ...k })),
  };
  return Object.freeze(config);
}

/**
 * The ZeroMQ endpoints of resolved options (`--zmq-bind` defaults to tcp://127.0.0.1:5555 unless
 * `--zmq-connect` is given), checked against what the chosen `--zmq-engine` can serve.
 */
export function zmqEndpoints(opts: Record<string, unknown>): { zmqBind: string | undefined; zmqConnect: string[]; zmqEngine: ZmqEngine } {
  const zmqConnect = opts['zmq-connect'] as string[];
  const zmqBind = (opts['zmq-bind'] as string | undefined) ?? (zmqConnect.length === 0 ? 'tcp://127.0.0.1:5555' : undefined);
  const zmqEngine = ((opts['zmq-engine'] as string | undefined) ?? 'zmtp') as ZmqEngine;
  const check = (endpoint: string, flag: string, role: 'bind' | 'connect'): void => {
    if (!/^(tcp|ipc|inproc):\/\/.+/.test(endpoint)) {
      throw new ConfigError(`${flag} "${endpoint}" is not a valid ZeroMQ endpoint: use tcp://HOST:PORT, ipc://PATH or inproc://NAME.`);
    }
    // Both engines would fail on it later with a message about something else (libzmq: a bare
    // "Invalid argument"), after a warning about the host; the missing port is the problem.
    if (endpoint.startsWith('tcp://') && !/:(\d+|\*)$/.test(endpoint)) {
      throw new ConfigError(`${flag} ${endpoint} has no port: write ${endpoint}:${DEFAULT_ZMQ_PORT}.`);
    }
    if (zmqEngine === 'zmtp') {
      try {
        parseZmtpEndpoint(endpoint, role);
      } catch (err) {
        throw new ConfigError(`${flag}: ${(err as Error).message}.`);
      }
    }
  };
  if (zmqBind !== undefined) check(zmqBind, '--zmq-bind', 'bind');
  for (const endpoint of zmqConnect) check(endpoint, '--zmq-connect', 'connect');
  return { zmqBind, zmqConnect, zmqEngine };
}

/**
 * The defaults as a config, for tests and embedding: `defaultServeConfig({ apiKeys: [...] })`, or
 * `defaultServeConfig({ apiKeys: [], control: 'tcp://127.0.0.1:5556' })` when a feed host verifies keys.
 */
export function defaultServeConfig(overrides: Partial<ServeConfig> & Pick<ServeConfig, 'apiKeys'>): ServeConfig {
  const opts = resolveOptions(SERVE_OPTIONS, new Map(), {});
  if (overrides.control !== undefined) opts['control'] = overrides.control;
  return Object.freeze({ ...buildServeConfig(opts, overrides.apiKeys), ...overrides });
}

/** `--help` text for a command's options. */
export function formatHelp(usage: string, specs: readonly OptionSpec[]): string {
  const lines = [usage, '', 'Options (flag beats env beats default):'];
  for (const s of specs) {
    const arg = s.kind === 'bool' ? '' : ` ${s.arg ?? s.kind.toUpperCase()}`;
    const def =
      s.default === undefined || (Array.isArray(s.default) && s.default.length === 0)
        ? ''
        : ` [default: ${Array.isArray(s.default) ? s.default.join(',') : String(s.default)}]`;
    lines.push(`  --${s.name}${arg}`, `      ${s.help}${def}`, `      env ${envName(s.name, s)}`);
  }
  lines.push('  --help', '      show this help');
  return lines.join('\n');
}
