/**
 * `tickcast`: the proxy as a library, for embedding it in a Node process. Start one with
 * {@link startProxy} and a config from {@link defaultServeConfig} (or the CLI's own
 * {@link buildServeConfig}); the feed's {@link ZmqFeed}, the {@link Hub} and the frame encoding are
 * here for code that builds its own pipeline. The browser/Node client is `tickcast/client`, the
 * stream operators are `tickcast/streams`.
 *
 * @example
 * import { defaultServeConfig, startProxy } from 'tickcast';
 * const proxy = await startProxy({ config: defaultServeConfig({ apiKeys: [{ key: KEY, userId: 'me', broker: 'tickcast' }] }) });
 * console.log(proxy.wsUrl);
 */
export { startProxy } from './server';
export type { Proxy, ProxyOptions } from './server';
export { buildServeConfig, ConfigError, defaultServeConfig, SERVE_TABLE } from './config';
export type { ApiKey, ServeConfig } from './config';
export { createLogger, silentLogger } from './logger';
export type { Logger, LoggerOptions } from './logger';
export { DEFAULT_ZMQ_BIND, ZmqFeed } from './ingest/zmq';
export type { FeedState, ZmqEngine, ZmqFeedOptions } from './ingest/zmq';
export { Hub } from './hub';
export type { Frame, HubClient, HubOptions, Slot } from './hub';
export { frameHead, frameTail, hasBook, TickEncoder, toDepthShape, withoutBook } from './frames';
export type { FrameOptions } from './frames';
