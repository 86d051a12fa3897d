/** Tickcast, the process side: ingest, hub, frames and the proxy's building blocks. */
export { DEFAULT_ZMQ_BIND, ZmqFeed } from './ingest/zmq';
export type { FeedState, ZmqEngine, ZmqFeedOptions } from './ingest/zmq';
export { parseZmtpEndpoint, ZmtpSubConnection, ZmtpSubscriber } from './ingest/zmtp';
export type { ZmtpEndpoint, ZmtpHandlers, ZmtpRejectReason, ZmtpSubscriberOptions } from './ingest/zmtp';
export { Hub } from './hub';
export type { Frame, HubClient, HubOptions, Slot } from './hub';
export { frameHead, frameTail, hasBook, TickEncoder, toDepthShape, withoutBook, wsTextFrame } from './frames';
export type { FrameOptions } from './frames';
