/** The simulated broker feed: a deterministic market and the ZeroMQ publisher that sends it. */
export { BURST_CYCLE_MS, BURST_ON_MS, BURST_SYMBOLS, DEFAULT_UNIVERSE, Market, inBurst, mulberry32, pickUniverse, roundTo } from './market';
export type { BookShape, Instrument, MarketOptions, SimMessage } from './market';
export { buildSimConfig, DEFAULT_SIM_CONNECT, SIM_OPTIONS } from './options';
export type { SimConfig } from './options';
export { SimPublisher, startSimulator } from './publisher';
export type { SimPublisherOptions } from './publisher';
