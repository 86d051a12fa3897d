/**
 * The built-in ZMTP 3 engine (ZeroMQ's wire protocol, RFC 23 and RFC 37, SUB side) over `node:net`:
 * the default way the proxy reads its feed.
 *
 * Why not libzmq (the `zeromq` package)? Through the binding every message costs a hop across the
 * libzmq I/O thread (a pipe write and an eventfd signal), a poll of the socket and one N-API call
 * with a Promise and two Buffers in JavaScript. Here a publisher's TCP stream arrives in the event
 * loop as one chunk per read, carrying however many messages the kernel had: the frames are cut
 * out of it in a loop, the payload is a view into the chunk, and there is no second thread (see
 * bench/README.md for what that saves).
 *
 * - `codec.ts`: one connection's bytes in, messages and control bytes out (pure);
 * - `endpoint.ts`: which endpoints it serves and what is wrong with the others;
 * - `subscriber.ts`: the sockets — listeners, dialled connections with backoff, the limits.
 *
 * Hostile or broken peers cost a connection, never the process: a bad greeting, another mechanism,
 * a wrong socket type, a malformed frame, one larger than the largest message, one connection too
 * many or too many bytes held in unfinished messages closes that connection with a reason.
 */
export { DEFAULT_MAX_MESSAGE_BYTES, subscriptionFrame, ZMTP_REJECT_REASONS, ZmtpSubConnection } from './codec';
export type { ZmtpHandlers, ZmtpRejectReason } from './codec';
export { missingPort, parseZmtpEndpoint } from './endpoint';
export type { ZmtpEndpoint } from './endpoint';
export { DEFAULT_MAX_PARTIAL_BYTES, DEFAULT_MAX_PUBLISHERS, ZmtpSubscriber } from './subscriber';
export type { ZmtpSubscriberOptions } from './subscriber';
