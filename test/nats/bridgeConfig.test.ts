import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, envName } from '../../src/config';
import { BRIDGE_OPTIONS, loadBridgeConfig } from '../../src/nats/bridgeConfig';

describe('tickcast bridge configuration', () => {
  it("defaults to the proxy's ZeroMQ endpoint, a local NATS, a 100 ms throttle and a file-backed stream", () => {
    expect(loadBridgeConfig([], {})).toEqual({
      zmqBind: 'tcp://127.0.0.1:5555',
      zmqConnect: [],
      zmqEngine: 'zmtp',
      zmqRcvHwm: 100_000,
      zmqReadIntervalMs: 0,
      nats: 'nats://127.0.0.1:4222',
      throttleMs: 100,
      twoSegmentExchanges: ['NSE_INDEX', 'BSE_INDEX', 'MCX_INDEX', 'GLOBAL_INDEX'],
      stream: 'TICKCAST_MD',
      storage: 'file',
      replicas: 1,
      maxKeys: 250_000,
      logLevel: 'info',
      statsIntervalS: 30,
    });
  });

  it("reads flags before env, with serve's names for the shared options", () => {
    const config = loadBridgeConfig(['--zmq-connect', 'tcp://10.0.0.5:5556', '--throttle-ms', '0'], {
      TICKCAST_NATS: 'nats://a:4222,nats://b:4222',
      TICKCAST_THROTTLE_MS: '250',
      TICKCAST_NATS_STORAGE: 'memory',
    });
    expect(config).toMatchObject({
      zmqBind: undefined,
      zmqConnect: ['tcp://10.0.0.5:5556'],
      nats: 'nats://a:4222,nats://b:4222',
      throttleMs: 0,
      storage: 'memory',
    });
  });

  it.each([
    [['--nats', 'http://x:4222'], '--nats "http://x:4222" is not a NATS URL: use nats://HOST:PORT (several separated by commas).'],
    [['--nats-stream', 'MD.LAST'], '--nats-stream "MD.LAST" is not a valid stream name: use letters, digits, _ and -.'],
    [
      ['--zmq-bind', '127.0.0.1:5555'],
      '--zmq-bind "127.0.0.1:5555" is not a valid ZeroMQ endpoint: use tcp://HOST:PORT, ipc://PATH or inproc://NAME.',
    ],
  ])('%j is refused with a message that says what to use', (argv, message) => {
    expect(() => loadBridgeConfig(argv, {})).toThrow(new ConfigError(message));
  });
});

describe('docs/deployment.md', () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'deployment.md'), 'utf8');
  it.each([...BRIDGE_OPTIONS])('names the bridge option --$name', (o) => {
    expect(doc).toContain(`\`--${o.name}`);
  });
  it.each(BRIDGE_OPTIONS.filter((o) => o.name.startsWith('nats')))('gives the env var of --$name', (o) => {
    expect(doc).toContain(`\`${envName(o.name, o)}\``);
  });
});
