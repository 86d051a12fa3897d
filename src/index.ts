/** Tickcast, the process side: ingest, hub and (as they land) the gateway and CLI building blocks. */
export { DEFAULT_ZMQ_BIND, ZmqFeed } from './ingest/zmq';
export type { FeedState, ZmqFeedOptions } from './ingest/zmq';
export { Hub } from './hub';
export type { Frame, HubClient, HubOptions, Slot } from './hub';
export { frameHead, frameTail, hasBook, TickEncoder, toDepthShape, withoutBook } from './frames';
export type { FrameOptions } from './frames';
