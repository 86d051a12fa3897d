/** The control channel to a feed host (docs/control.md). */
export {
  type AdapterHealth,
  ControlClient,
  type ControlClientOptions,
  type ControlCounters,
  ControlError,
  type ControlHealth,
  FEED_HOST_UNAVAILABLE,
  type HostState,
} from './ControlClient';
export type { Identity, KeyVerifier, Upstream, UpstreamItem, UpstreamResult } from './types';
export { controlHooks, type ControlHooks, type ControlHooksOptions, parseInvalidation } from './wiring';
