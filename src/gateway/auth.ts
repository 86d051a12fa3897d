import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '../config';

/**
 * Looks API keys up in constant time: every configured key is compared (as SHA-256 digests, so
 * lengths never differ) on every attempt, with no early exit, so timing says nothing about how much
 * of a key was right. Keys are held only as digests.
 */
export class ApiKeyStore {
  private readonly entries: readonly { digest: Buffer; userId: string; broker: string }[];

  constructor(keys: readonly ApiKey[]) {
    this.entries = keys.map((k) => ({ digest: digest(k.key), userId: k.userId, broker: k.broker }));
  }

  /** The user and broker of `key`, or undefined when it is not a configured key. */
  lookup(key: string): { userId: string; broker: string } | undefined {
    const d = digest(key);
    let found: { userId: string; broker: string } | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(d, e.digest) && found === undefined) found = { userId: e.userId, broker: e.broker };
    }
    return found;
  }

  /** Every broker label configured, once each, in order. */
  brokers(): string[] {
    return [...new Set(this.entries.map((e) => e.broker))];
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}
