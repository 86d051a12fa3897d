/** A parsed endpoint the built-in engine can serve. */
export type ZmtpEndpoint =
  | { readonly transport: 'tcp'; readonly host: string | undefined; readonly port: number }
  | { readonly transport: 'ipc'; readonly path: string };

/**
 * Why a `tcp://` endpoint names no port, with how to write it; undefined when it has one (or is not
 * `tcp://`). Both engines ask this first, so `tcp://127.0.0.1` is refused for what it lacks rather
 * than with libzmq's bare "Invalid argument".
 *
 * @example
 * missingPort('tcp://127.0.0.1'); // 'tcp://127.0.0.1 names no port: write tcp://127.0.0.1:5555 ...'
 */
export function missingPort(endpoint: string, role: 'bind' | 'connect'): string | undefined {
  if (!endpoint.startsWith('tcp://')) return undefined;
  const rest = endpoint.slice('tcp://'.length);
  const afterHost = rest.startsWith('[') ? rest.slice(rest.indexOf(']') + 1) : rest;
  if (afterHost.includes(':')) return undefined;
  const anyPort = role === 'bind' ? ` (or ${endpoint}:* for any free port)` : '';
  return `${endpoint} names no port: write ${endpoint}:5555${anyPort}`;
}

/**
 * Parses `tcp://HOST:PORT` (HOST may be `*` for every interface when binding, `[v6]`, or a name;
 * PORT may be `*` or 0 for any free port when binding) and `ipc://PATH` (`@name`: Linux abstract
 * namespace). Throws, saying what is missing or naming the engine to use instead, for anything else.
 */
export function parseZmtpEndpoint(endpoint: string, role: 'bind' | 'connect'): ZmtpEndpoint {
  if (endpoint.startsWith('ipc://')) {
    const path = endpoint.slice('ipc://'.length);
    if (path.length === 0) throw new Error(`endpoint ${endpoint} names no path`);
    return { transport: 'ipc', path: path.startsWith('@') ? `\0${path.slice(1)}` : path };
  }
  const noPort = missingPort(endpoint, role);
  if (noPort !== undefined) throw new Error(noPort);
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/[\]]+):(\d+|\*)$/.exec(endpoint);
  if (m === null) {
    throw new Error(
      `the built-in ZMTP engine reads tcp://HOST:PORT and ipc://PATH endpoints, not ${endpoint}; use --zmq-engine libzmq for other transports`,
    );
  }
  const rawHost = m[1] as string;
  const port = m[2] === '*' ? 0 : Number(m[2]);
  if (port > 65535) throw new Error(`endpoint ${endpoint}: port out of range`);
  if (role === 'connect' && (rawHost === '*' || port === 0)) throw new Error(`cannot connect to ${endpoint}: it names no host or port`);
  // `localhost` is 127.0.0.1, as libzmq (IPv4 unless ZMQ_IPV6) reads it; Node might pick ::1.
  const host =
    rawHost === '*' ? undefined : rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost === 'localhost' ? '127.0.0.1' : rawHost;
  return { transport: 'tcp', host, port };
}
