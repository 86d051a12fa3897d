/**
 * What `tickcast serve` says about its feed endpoints (#17): a tcp:// endpoint without a port is
 * refused for what it lacks, on both engines, with no "reachable from other hosts" warning first; a
 * publisher host that does not resolve is warned about; a feed that only connects is not ready
 * (/readyz 503, saying why) until a publisher is there.
 */
import { Publisher } from 'zeromq';
import { buildCli, CliProcess } from '../helpers/cliProcess';
import { freePort } from '../helpers/net';
import { Scope, until } from '../helpers/scope';

jest.setTimeout(60_000);

const KEY = { TICKCAST_API_KEYS: 'messages-test-key' };

async function readyz(http: string): Promise<string> {
  const res = await fetch(`${http}/readyz`);
  return `${res.status} ${(await res.text()).trim()}`;
}

async function serve(scope: Scope, args: string[]): Promise<{ proc: CliProcess; http: string }> {
  const proc = scope.add(new CliProcess(['serve', '--port', '0', '--stats-interval-s', '0', ...args], KEY));
  await proc.waitFor(/"event":"listening"/, 20_000);
  return { proc, http: proc.logLines().find((l) => l['event'] === 'listening')!['httpUrl'] as string };
}

describe.each(['zmtp', 'libzmq'])('feed endpoint messages (%s engine)', (engine) => {
  const scope = new Scope();
  beforeAll(() => buildCli(), 120_000);
  afterEach(() => scope.close());

  it.each([
    ['--zmq-bind', 'tcp://127.0.0.1', 'tickcast serve: --zmq-bind tcp://127.0.0.1 has no port: write tcp://127.0.0.1:5555.'],
    ['--zmq-connect', 'tcp://feedhost', 'tickcast serve: --zmq-connect tcp://feedhost has no port: write tcp://feedhost:5555.'],
  ])('%s %s exits 2 saying the port is missing and how to write it, and warns about nothing first', async (flag, endpoint, message) => {
    const proc = scope.add(new CliProcess(['serve', '--zmq-engine', engine, flag, endpoint], KEY));
    expect(await proc.exited).toEqual({ code: 2, signal: null });
    expect(proc.stderr.trim()).toBe(message);
    expect(proc.stdout).not.toContain('reachable from other hosts');
  });

  it('--zmq-connect to a host that does not resolve: warns naming the host, and /readyz is 503 saying no publisher is connected', async () => {
    const { proc, http } = await serve(scope, ['--zmq-engine', engine, '--zmq-connect', 'tcp://nohost.invalid:5555']);
    await until(() => proc.logLines().some((l) => l['event'] === 'zmq_unresolved'), 'the unresolved-host warning', 20_000);
    const warning = proc.logLines().find((l) => l['event'] === 'zmq_unresolved')!;
    expect(warning['level']).toBe(40);
    expect(warning['msg']).toMatch(
      /^--zmq-connect tcp:\/\/nohost\.invalid:5555: host nohost\.invalid does not resolve \((ENOTFOUND|EAI_AGAIN)\); check the name/,
    );
    expect(await readyz(http)).toBe('503 feed not up: no publisher connected to tcp://nohost.invalid:5555');
  });

  it('a connect-mode feed is not ready until a publisher is there, and ready once one binds', async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const { http } = await serve(scope, ['--zmq-engine', engine, '--zmq-connect', endpoint]);
    expect(await readyz(http)).toBe(`503 feed not up: no publisher connected to ${endpoint}`);
    const pub = new Publisher({ linger: 0 });
    scope.add({ close: () => pub.close() });
    await pub.bind(endpoint);
    await until(async () => (await readyz(http)) === '200 ready', '/readyz 200 once the publisher is there', 20_000, 50);
  });
});
