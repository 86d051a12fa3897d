import { STALE_MS } from '../../src/page/model';
import {
  KEY_STORAGE,
  type PageLocation,
  searchWithWatchlist,
  staleAfterMs,
  takeApiKey,
  watchlistFrom,
  webSocketUrl,
} from '../../src/page/settings';

const at = (url: string): PageLocation => {
  const u = new URL(url);
  return { protocol: u.protocol, host: u.host, pathname: u.pathname, search: u.search, hash: u.hash };
};

class MemoryStore {
  readonly items = new Map<string, string>();
  getItem(k: string): string | null {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.items.set(k, v);
  }
  removeItem(k: string): void {
    this.items.delete(k);
  }
}

describe('takeApiKey', () => {
  it('takes the key from the fragment, keeps it in the store and removes it from the address bar', () => {
    const store = new MemoryStore();
    const urls: string[] = [];
    expect(takeApiKey(at('http://127.0.0.1:8765/?symbols=NSE:TCS#key=abc123'), store, (u) => urls.push(u))).toBe('abc123');
    expect(store.items.get(KEY_STORAGE)).toBe('abc123');
    expect(urls).toStrictEqual(['/?symbols=NSE:TCS']);
  });

  it('keeps other fragment parameters when it removes the key', () => {
    const urls: string[] = [];
    takeApiKey(at('http://h/#x=1&key=k'), new MemoryStore(), (u) => urls.push(u));
    expect(urls).toStrictEqual(['/#x=1']);
  });

  it('falls back to the stored key, and to nothing', () => {
    const store = new MemoryStore();
    const replace = jest.fn();
    expect(takeApiKey(at('http://h/'), store, replace)).toBeUndefined();
    store.setItem(KEY_STORAGE, 'stored');
    expect(takeApiKey(at('http://h/'), store, replace)).toBe('stored');
    expect(takeApiKey(at('http://h/#key='), store, replace)).toBe('stored');
    expect(replace).toHaveBeenCalledTimes(1); // only the empty #key= was removed
  });

  it('never reads a key from the query string, which servers and proxies log', () => {
    expect(takeApiKey(at('http://h/?key=leaked'), new MemoryStore(), jest.fn())).toBeUndefined();
  });
});

describe('webSocketUrl', () => {
  it('is the page origin and folder, ws or wss as the page is http or https', () => {
    expect(webSocketUrl(at('http://127.0.0.1:8765/'))).toBe('ws://127.0.0.1:8765/');
    expect(webSocketUrl(at('https://example.test/tickcast/index.html?x=1'))).toBe('wss://example.test/tickcast/');
  });

  it('is ?ws= when given', () => {
    expect(webSocketUrl(at('http://h/?ws=ws%3A%2F%2Fother%3A9000%2Fws'))).toBe('ws://other:9000/ws');
  });
});

describe('watchlist in the URL', () => {
  it('reads ?symbols= and writes it back readable, keeping other parameters', () => {
    const list = watchlistFrom(at('http://h/?ws=x&symbols=NSE:TCS,CRYPTO:BTC_INR'));
    expect(list.map((i) => i.id)).toStrictEqual(['NSE:TCS', 'CRYPTO:BTC_INR']);
    expect(searchWithWatchlist('?ws=x&symbols=old', list)).toBe('?ws=x&symbols=NSE:TCS,CRYPTO:BTC_INR');
  });
});

describe('staleAfterMs', () => {
  it('reads ?stale= in seconds, and falls back to the default for anything but a positive number', () => {
    expect(staleAfterMs({ search: '?stale=2.5' })).toBe(2500);
    expect(staleAfterMs({ search: '' })).toBe(STALE_MS);
    for (const bad of ['?stale=0', '?stale=-1', '?stale=x', '?stale=']) expect(staleAfterMs({ search: bad })).toBe(STALE_MS);
  });
});
