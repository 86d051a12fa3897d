import type { Command } from '../cli';
import { BRIDGE_OPTIONS, buildBridgeConfig } from './bridgeConfig';

/**
 * `tickcast bridge`: the ZeroMQ feed onto NATS for scale-out nodes (`tickcast serve --nats URL`).
 * The NATS code loads only when the command runs.
 */
export const bridgeCommand: Command = {
  name: 'bridge',
  summary: 'relay the ZeroMQ feed onto NATS (last values in JetStream) for scale-out nodes: `serve --nats URL`',
  options: BRIDGE_OPTIONS,
  async start(opts, ctx) {
    const config = buildBridgeConfig(opts);
    const logger = ctx.logger(config.logLevel);
    const { startBridge } = await import('./bridge');
    const bridge = await startBridge({ config, logger });
    return { logger, closeDeadlineMs: 2000, close: () => bridge.close() };
  },
};
