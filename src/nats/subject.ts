import type { Mode, TopicKey } from '../../streams';

/** Subjects of market data: `tickcast.md.<exchange>.<symbol>.<ltp|quote|depth>`. */
export const MD_PREFIX = 'tickcast.md';
/** Subjects of account order events: `tickcast.orders.<feed topic>`. */
export const ORDERS_PREFIX = 'tickcast.orders';
/** The JetStream stream that keeps the last tick of every market-data subject. */
export const DEFAULT_STREAM = 'TICKCAST_MD';

/** The last subject token of each mode, lowest first. */
export const MODE_TOKENS: readonly string[] = ['ltp', 'quote', 'depth'];

const SAFE = /^[A-Za-z0-9_-]*$/;
const CANONICAL = /^(?:[A-Za-z0-9_-]|%[0-9A-F]{2})+$/;
const HEX = '0123456789ABCDEF';
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function isSafeByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b === 0x2d;
}

/**
 * Escapes a string into ONE NATS subject token, reversibly: every UTF-8 byte outside
 * `[A-Za-z0-9_-]` becomes `%XX` (upper-case hex), `%` itself included. So `.`, `*`, `>`, white
 * space and `:` cannot split a token or act as wildcards, and {@link decodeToken} gets the exact
 * string back. Strings that are already safe (most symbols) are returned as they are.
 *
 * The empty string has no token (NATS forbids empty tokens): callers never pass one, since a
 * topic's exchange and symbol are never empty.
 *
 * @example
 * encodeToken('RELIANCE');  // 'RELIANCE'
 * encodeToken('TCS:50');    // 'TCS%3A50'
 * encodeToken('BTC.USD');   // 'BTC%2EUSD'
 */
export function encodeToken(value: string): string {
  if (SAFE.test(value)) return value;
  let out = '';
  for (const b of encoder.encode(value)) {
    out += isSafeByte(b) ? String.fromCharCode(b) : '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/**
 * The inverse of {@link encodeToken}. Returns null for anything `encodeToken` never produces:
 * empty tokens, other characters, lower-case or short escapes, escapes of safe bytes, bytes that
 * are not UTF-8. So `encodeToken(decodeToken(t)) === t` whenever the result is not null.
 *
 * @example
 * decodeToken('TCS%3A50'); // 'TCS:50'
 * decodeToken('TCS:50');   // null
 */
export function decodeToken(token: string): string | null {
  if (!CANONICAL.test(token)) return null;
  if (!token.includes('%')) return token;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c !== 0x25) {
      bytes.push(c);
      continue;
    }
    const b = parseInt(token.slice(i + 1, i + 3), 16);
    if (isSafeByte(b)) return null;
    bytes.push(b);
    i += 2;
  }
  try {
    return decoder.decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
}

/** `tickcast.md.<exchange>.<symbol>` with both tokens escaped: the stem of a symbol's subjects. */
export function symbolStem(exchange: string, symbol: string, prefix = MD_PREFIX): string {
  return `${prefix}.${encodeToken(exchange)}.${encodeToken(symbol)}`;
}

/**
 * The subject a key's ticks are published on.
 *
 * @example
 * keySubject({ exchange: 'NSE', symbol: 'TCS:50', mode: 3 }); // 'tickcast.md.NSE.TCS%3A50.depth'
 */
export function keySubject(key: TopicKey, prefix = MD_PREFIX): string {
  return `${symbolStem(key.exchange, key.symbol, prefix)}.${MODE_TOKENS[key.mode - 1]}`;
}

/** The key a market-data subject names, or null when it is not one (wrong prefix, bad token). */
export function parseKeySubject(subject: string, prefix = MD_PREFIX): TopicKey | null {
  if (!subject.startsWith(prefix + '.')) return null;
  const parts = subject.slice(prefix.length + 1).split('.');
  if (parts.length !== 3) return null;
  const exchange = decodeToken(parts[0] as string);
  const symbol = decodeToken(parts[1] as string);
  const index = MODE_TOKENS.indexOf(parts[2] as string);
  if (exchange === null || symbol === null || index < 0) return null;
  return { exchange, symbol, mode: (index + 1) as Mode };
}
