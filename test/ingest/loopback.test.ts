/** isLoopbackEndpoint: which feed endpoints the start-up warning about exposure skips. */
import { isLoopbackEndpoint } from '../../src/feed';

describe('isLoopbackEndpoint', () => {
  it.each([
    ['tcp://127.0.0.1:5555', true],
    ['tcp://127.0.0.1', true],
    ['tcp://127.1.2.3:*', true],
    ['tcp://localhost:5555', true],
    ['tcp://[::1]:5555', true],
    ['tcp://[::1]', true],
    ['ipc:///tmp/feed.sock', true],
    ['inproc://feed', true],
    ['tcp://0.0.0.0:5555', false],
    ['tcp://*:5555', false],
    ['tcp://10.0.0.5:5555', false],
    ['tcp://eth0:5555', false],
  ])('%s → %s', (endpoint, loopback) => {
    expect(isLoopbackEndpoint(endpoint)).toBe(loopback);
  });
});
