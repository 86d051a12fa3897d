import {
  buildServeConfig,
  ConfigError,
  defaultServeConfig,
  parseArgs,
  resolveOptions,
  SERVE_OPTIONS,
  SERVE_TABLE,
  type ServeConfig,
} from '../src/config';

const KEYS = [{ key: 'k', userId: 'u', broker: 'b' }];
const build = (argv: string[], env: Record<string, string> = {}): ServeConfig =>
  buildServeConfig(resolveOptions(SERVE_OPTIONS, parseArgs(argv, SERVE_OPTIONS).raw, env), KEYS);

describe('the serve option table', () => {
  it('is what SERVE_OPTIONS lists, row for row, in --help order', () => {
    expect(SERVE_OPTIONS).toEqual(Object.values(SERVE_TABLE));
    expect(SERVE_OPTIONS[0]).toBe(SERVE_TABLE.host);
    expect(SERVE_OPTIONS.map((o) => o.name).slice(0, 3)).toEqual(['host', 'port', 'zmq-bind']);
  });

  it('gives the config a field per row, except the rows that feed apiKeys', () => {
    const fields = Object.entries(SERVE_TABLE)
      .filter(([, row]) => !('field' in row))
      .map(([field]) => field);
    expect(Object.keys(build([])).sort()).toEqual([...fields, 'apiKeys'].sort());
    expect(fields).not.toContain('apiKeySpecs');
    expect(fields).not.toContain('apiKeysFile');
  });

  it('fills each field from its flag, env var or default', () => {
    const config = build(['--max-depth', '20', '--no-books-as-depth', '--zmq-engine', 'libzmq'], { TICKCAST_THROTTLE_MS: '0' });
    expect(config).toMatchObject({
      maxDepth: 20,
      booksAsDepth: false,
      zmqEngine: 'libzmq',
      throttleMs: 0,
      port: 8765,
      nats: undefined,
      zmqBind: 'tcp://127.0.0.1:5555',
      zmqConnect: [],
      twoSegmentExchanges: ['NSE_INDEX', 'BSE_INDEX', 'MCX_INDEX', 'GLOBAL_INDEX'],
      apiKeys: KEYS,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('gives defaultServeConfig the table defaults and the overrides', () => {
    const config = defaultServeConfig({ apiKeys: KEYS, throttleMs: 0 });
    expect([config.throttleMs, config.maxDepth, config.shutdownGraceMs, config.logLevel, config.dashboard]).toEqual([
      0,
      50,
      1500,
      'info',
      false,
    ]);
  });
});

describe('ZeroMQ endpoints in config', () => {
  it.each([
    [['--zmq-bind', 'tcp://127.0.0.1'], '--zmq-bind tcp://127.0.0.1 has no port: write tcp://127.0.0.1:5555.'],
    [['--zmq-bind', 'tcp://*'], '--zmq-bind tcp://* has no port: write tcp://*:5555.'],
    [['--zmq-connect', 'tcp://10.0.0.7'], '--zmq-connect tcp://10.0.0.7 has no port: write tcp://10.0.0.7:5555.'],
    [['--zmq-connect', 'tcp://[::1]', '--zmq-engine', 'libzmq'], '--zmq-connect tcp://[::1] has no port: write tcp://[::1]:5555.'],
  ])('%j is refused before anything starts: %s', (argv, message) => {
    expect(() => build(argv)).toThrow(new ConfigError(message));
  });

  it.each([['tcp://127.0.0.1:6000'], ['tcp://*:*'], ['tcp://[::1]:6000'], ['ipc:///tmp/feed']])('%s is accepted', (endpoint) => {
    expect(build(['--zmq-bind', endpoint]).zmqBind).toBe(endpoint);
  });
});

describe('the ServeConfig type (checked by npm run typecheck)', () => {
  it("derives each field's type from its row", () => {
    const engine: ServeConfig['zmqEngine'] = 'libzmq';
    const level: ServeConfig['logLevel'] = 'silent';
    const bind: ServeConfig['zmqBind'] = undefined;
    // @ts-expect-error a row with choices takes only those
    const badEngine: ServeConfig['zmqEngine'] = 'zmq';
    // @ts-expect-error rows with field: false give no field
    const specs: ServeConfig['apiKeySpecs'] = [];
    expect([engine, level, bind, badEngine, specs]).toEqual(['libzmq', 'silent', undefined, 'zmq', []]);
  });
});
