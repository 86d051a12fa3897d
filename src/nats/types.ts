/**
 * The NATS client's types. `@nats-io/transport-node` re-exports them through a package-exports
 * subpath (`@nats-io/nats-core/internal`) that this project's `moduleResolution: node` cannot
 * follow, so they would silently become `any`: import them from the file that declares them.
 * Type-only: nothing of this import survives compilation.
 */
export type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core/lib/core';
