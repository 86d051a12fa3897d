/**
 * Where the page's settings come from: the proxy's WebSocket URL, the watchlist and the API key.
 *
 * The API key never comes from the server. A page served to anyone must not carry a key, and the
 * proxy cannot tell a demo visitor from anyone else, so the page takes the key from:
 * 1. the URL's fragment, `#key=…`: `tickcast demo` can print a link with its fresh key there. The
 *    fragment is never sent to any server (not in the request line, not in access logs, not in a
 *    `Referer`), and the page removes it from the address bar and history as soon as it has read it;
 * 2. else this tab's `sessionStorage` (a reload keeps the key; closing the tab forgets it);
 * 3. else the key field the page shows, where a user pastes the key.
 */
import { type Instrument, parseWatchlist, STALE_MS } from './model';

/** The storage slot of the key, in `sessionStorage`. */
export const KEY_STORAGE = 'tickcast.apiKey';

/** The parts of `window.location` read here. */
export interface PageLocation {
  readonly protocol: string;
  readonly host: string;
  readonly pathname: string;
  readonly search: string;
  readonly hash: string;
}

/** The parts of `sessionStorage` used here. */
export type KeyStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * The key in `#key=…`, moved into `store`, with the fragment removed from the address bar by
 * `replaceUrl`; else the key `store` holds; else `undefined` (ask the user).
 */
export function takeApiKey(location: PageLocation, store: KeyStore, replaceUrl: (url: string) => void): string | undefined {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fromUrl = fragment.get('key')?.trim();
  if (fragment.has('key')) {
    fragment.delete('key');
    const rest = fragment.toString();
    replaceUrl(`${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  }
  if (fromUrl) {
    store.setItem(KEY_STORAGE, fromUrl);
    return fromUrl;
  }
  return store.getItem(KEY_STORAGE) || undefined;
}

/**
 * The proxy's WebSocket URL: `?ws=` when given, else the page's own origin and folder (the proxy
 * accepts WebSocket connections on any path, and a reverse proxy that serves the page under a prefix
 * usually forwards the WebSocket there too).
 */
export function webSocketUrl(location: PageLocation): string {
  const given = new URLSearchParams(location.search).get('ws');
  if (given) return given;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const folder = location.pathname.slice(0, location.pathname.lastIndexOf('/') + 1) || '/';
  return `${scheme}//${location.host}${folder}`;
}

/** The watchlist: `?symbols=NSE:RELIANCE,CRYPTO:BTC_INR`, else the default one. */
export function watchlistFrom(location: PageLocation): Instrument[] {
  return parseWatchlist(new URLSearchParams(location.search).get('symbols'));
}

/** `search` with `?symbols=` set to `instruments` (other parameters kept), for the address bar. */
export function searchWithWatchlist(search: string, instruments: readonly Instrument[]): string {
  const params = new URLSearchParams(search);
  params.set('symbols', instruments.map((i) => i.id).join(','));
  // Keep `:` and `,` readable in the address bar; both are legal in a query.
  return `?${params.toString().replace(/%3A/gi, ':').replace(/%2C/gi, ',')}`;
}

/**
 * How long without a tick before a price shows as stale: `?stale=SECONDS` (a slow feed may want
 * more, a test less), else {@link STALE_MS}.
 */
export function staleAfterMs(location: Pick<PageLocation, 'search'>): number {
  const seconds = Number(new URLSearchParams(location.search).get('stale') ?? NaN);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : STALE_MS;
}
