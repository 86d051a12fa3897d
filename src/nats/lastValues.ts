import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { NatsConnection } from './types';
import { DEFAULT_STREAM, MD_PREFIX, MODE_TOKENS } from './subject';

/** Where the last tick of every market-data subject is kept. */
export interface LastValueStoreOptions {
  /** Stream name. Default {@link DEFAULT_STREAM}. */
  readonly stream?: string;
  /** `file` survives a nats-server restart; `memory` does not. Default `file`. */
  readonly storage?: 'file' | 'memory';
  /** Replicas in a JetStream cluster. Default 1. */
  readonly replicas?: number;
  /** Subject prefix of market data. Default {@link MD_PREFIX}. */
  readonly prefix?: string;
  /** Timeout of each JetStream request in ms. Default 2000. */
  readonly timeoutMs?: number;
}

/** One stored last tick. */
export interface LastValue {
  readonly subject: string;
  /** Stream sequence: a larger one was published later. */
  readonly seq: number;
  readonly data: Uint8Array;
}

/**
 * The stream's configuration: every `tickcast.md.>` subject, ONE message kept per subject, so the
 * stream is a last-value table of size (number of keys) whatever the tick rate. The bridge
 * publishes with plain core-NATS publishes (no ack round trip per tick); the stream captures them.
 * Direct get lets every node (and any replica) answer "last message of this subject" cheaply.
 */
export function lastValueStreamConfig(options: LastValueStoreOptions = {}): Partial<StreamConfig> & { name: string } {
  return {
    name: options.stream ?? DEFAULT_STREAM,
    description: 'Tickcast: last tick per market-data subject (written by tickcast bridge)',
    subjects: [`${options.prefix ?? MD_PREFIX}.>`],
    retention: RetentionPolicy.Limits,
    storage: options.storage === 'memory' ? StorageType.Memory : StorageType.File,
    num_replicas: options.replicas ?? 1,
    max_msgs_per_subject: 1,
    discard: DiscardPolicy.Old,
    allow_direct: true,
  };
}

function hasCode(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

/** Explains a JetStream failure in terms of what to do about it. */
export function describeJetStreamError(err: unknown, stream: string): string {
  const message = err instanceof Error ? err.message : String(err);
  if (hasCode(err, JetStreamApiCodes.StreamNotFound)) {
    return `stream ${stream} does not exist: start \`tickcast bridge\` (it creates it)`;
  }
  if (/no responders|503|JetStream not enabled/i.test(message)) {
    return `JetStream is not enabled on the NATS server (${message}): start nats-server with -js`;
  }
  return message;
}

/**
 * Creates the last-value stream, or brings an existing one to the settings Tickcast relies on
 * (subjects, one message per subject, direct get). Idempotent: the bridge calls it at start and
 * after every reconnect (a memory stream does not survive a server restart).
 */
export async function ensureLastValueStream(nc: NatsConnection, options: LastValueStoreOptions = {}): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: options.timeoutMs ?? 2000 });
  const want = lastValueStreamConfig(options);
  try {
    const info = await jsm.streams.info(want.name);
    const have = info.config;
    const same =
      have.max_msgs_per_subject === 1 &&
      have.allow_direct === true &&
      have.subjects.length === 1 &&
      have.subjects[0] === want.subjects?.[0];
    if (!same) {
      await jsm.streams.update(want.name, {
        subjects: want.subjects,
        max_msgs_per_subject: 1,
        allow_direct: true,
      });
    }
  } catch (err) {
    if (!hasCode(err, JetStreamApiCodes.StreamNotFound)) throw err;
    await jsm.streams.add(want);
  }
}

/**
 * Reads last values from the stream for the nodes. Uses direct get by subject: one small request
 * per subject, answered by any replica, no consumer created.
 */
export class LastValueReader {
  private jsm: Promise<JetStreamManager> | undefined;
  readonly stream: string;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: LastValueStoreOptions = {},
  ) {
    this.stream = options.stream ?? DEFAULT_STREAM;
  }

  /** The last value of one subject, or null when none is stored. */
  async last(subject: string): Promise<LastValue | null> {
    this.jsm ??= jetstreamManager(this.nc, { timeout: this.options.timeoutMs ?? 2000, checkAPI: false });
    const jsm = await this.jsm;
    const msg = await jsm.direct.getMessage(this.stream, { last_by_subj: subject });
    return msg ? { subject: msg.subject, seq: msg.seq, data: msg.data } : null;
  }

  /**
   * The last values of every mode of one symbol (`stem` = `tickcast.md.<ex>.<sym>`), oldest first,
   * so pushing them in order leaves the newest as the symbol's latest.
   */
  async lastOfSymbol(stem: string): Promise<LastValue[]> {
    const found = await Promise.all(MODE_TOKENS.map((mode) => this.last(`${stem}.${mode}`)));
    return found.filter((v): v is LastValue => v !== null).sort((a, b) => a.seq - b.seq);
  }
}
