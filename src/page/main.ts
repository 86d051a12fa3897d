/**
 * The demo dashboard, bundled by `scripts/build-page.js` into `dist/page/app.js` and served by the
 * proxy at `GET /` (`tickcast demo`, or `serve --dashboard`). It is a plain `tickcast/client` user:
 * one client, a Quote and an LTP stream per watchlist row, and a Depth stream for the selected
 * symbol only. Ticks update plain objects (quotes, candles, the ladder); the DOM and the chart are
 * written once per animation frame.
 */
import { merge, type Subscription } from 'rxjs';
import { createTickcastClient, type MarketData, TickcastAuthError, type TickcastClient, TickcastSubscribeError } from '../client';
import { BAR_SIZES, barSizeLabel, type BarSize, DEFAULT_BAR_SIZE, SymbolBars, tickTime } from './candles';
import { ChartView } from './chart';
import { FrameBatcher } from './frame';
import {
  applyTick,
  emptyQuote,
  formatPrice,
  freshness,
  type Instrument,
  type Ladder,
  LADDER_LEVELS,
  ladder,
  parseInstrument,
  type Quote,
  RateMeter,
} from './model';
import { KEY_STORAGE, searchWithWatchlist, staleAfterMs, takeApiKey, watchlistFrom, webSocketUrl } from './settings';
import { BookView, byId, renderFreshness, renderStatus, setText, WatchlistView } from './views';

type Status = Parameters<typeof renderStatus>[2];

/** How often ages and the tick rate move on when no tick asks for a frame. */
const REFRESH_MS = 250;
/** How long the status badge says the connection came back. */
const RECOVERED_NOTE_MS = 15_000;

class Dashboard {
  private readonly instruments: Instrument[];
  private readonly quotes = new Map<string, Quote>();
  /** Candles per symbol, kept across reconnects for as long as the symbol is on the watchlist. */
  private readonly bars = new Map<string, SymbolBars>();
  private readonly rows = new Map<string, Subscription>();
  private readonly meter = new RateMeter();
  private readonly frame = new FrameBatcher((now) => this.render(now));
  private readonly watchlist: WatchlistView;
  private readonly book: BookView;
  private readonly chart: ChartView;
  private readonly staleMs = staleAfterMs(location);
  private barSize: BarSize = DEFAULT_BAR_SIZE;
  /** When the connection last went down (`Date.now()`), while it is down. */
  private downSince: number | undefined;
  /** When the connection came back after being down. */
  private backAt: number | undefined;
  private client: TickcastClient | undefined;
  private clientSubscription: Subscription | undefined;
  private depthSubscription: Subscription | undefined;
  private selected: string | undefined;
  private ladder: Ladder | undefined;
  private status: Status = 'connecting';
  private broker = '';

  constructor(private readonly wsUrl: string) {
    this.instruments = watchlistFrom(location);
    this.selected = this.instruments[0]?.id;
    for (const inst of this.instruments) this.track(inst);
    this.watchlist = new WatchlistView(byId<HTMLTableSectionElement>('watchlist-rows'), {
      select: (id) => this.select(id),
      remove: (id) => this.remove(id),
      move: (id, by) => {
        const i = this.instruments.findIndex((inst) => inst.id === id);
        const next = this.instruments[i + by];
        if (next) {
          this.select(next.id);
          this.watchlist.focus(next.id);
        }
      },
    });
    for (const inst of this.instruments) this.watchlist.add(inst);
    this.book = new BookView(byId('book'), byId('book-title'), {
      spread: byId('book-spread'),
      levels: byId('book-levels'),
      bidTotal: byId('book-bid-total'),
      askTotal: byId('book-ask-total'),
      ltp: byId('book-ltp'),
      state: byId('book-state'),
      panel: byId('book-panel'),
    });
    this.chart = new ChartView(byId('chart'));
    this.barSizeButtons();
    setText(byId('ws-url'), wsUrl);
    byId<HTMLFormElement>('add-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.addFromInput(byId<HTMLInputElement>('add-input'));
    });
    byId('change-key').addEventListener('click', () => this.askForKey());
    byId<HTMLFormElement>('key-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const key = byId<HTMLInputElement>('key-input').value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY_STORAGE, key);
      this.connect(key);
    });
    setInterval(() => this.frame.request(), REFRESH_MS);
    this.frame.request();
  }

  /** Starts keeping a quote and candles for `inst`. */
  private track(inst: Instrument): void {
    this.quotes.set(inst.id, emptyQuote(Date.now()));
    this.bars.set(inst.id, new SymbolBars());
  }

  /** The 5s / 1m / 5m switch: a group of toggle buttons, reachable and operable by keyboard. */
  private barSizeButtons(): void {
    const group = byId('bar-sizes');
    for (const size of BAR_SIZES) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'ghost';
      button.dataset['size'] = String(size);
      button.textContent = barSizeLabel(size);
      button.title = `${barSizeLabel(size)} bars`;
      button.setAttribute('aria-pressed', String(size === this.barSize));
      button.addEventListener('click', () => {
        this.barSize = size;
        group.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b === button)));
        this.frame.request();
      });
      group.append(button);
    }
  }

  /** Connects with `apiKey` and subscribes the watchlist and the selected book. */
  connect(apiKey: string): void {
    this.disconnect();
    byId('key-dialog').hidden = true;
    const client = createTickcastClient({ url: this.wsUrl, apiKey });
    this.client = client;
    this.clientSubscription = client.status$.subscribe({
      next: (status) => {
        this.setStatus(status);
        if (status === 'open') this.fetchBroker(client);
      },
      error: (err: unknown) => {
        if (err instanceof TickcastAuthError) {
          this.setStatus('refused');
          sessionStorage.removeItem(KEY_STORAGE);
          this.askForKey('The proxy refused this key. Check it and try again.');
        } else {
          this.setStatus('failed');
        }
      },
    });
    for (const inst of this.instruments) this.subscribeRow(inst);
    this.subscribeDepth();
  }

  private disconnect(): void {
    for (const sub of this.rows.values()) sub.unsubscribe();
    this.rows.clear();
    this.depthSubscription?.unsubscribe();
    this.clientSubscription?.unsubscribe();
    this.client?.close();
    this.client = undefined;
  }

  /** Shows the key form (over the page, which keeps its last values). */
  askForKey(message?: string): void {
    if (!message) {
      this.disconnect();
      sessionStorage.removeItem(KEY_STORAGE);
      this.setStatus('closed');
    }
    setText(byId('key-error'), message ?? '');
    byId('key-dialog').hidden = false;
    const input = byId<HTMLInputElement>('key-input');
    input.value = '';
    input.focus();
  }

  private setStatus(status: Status): void {
    const now = Date.now();
    if (status === 'open') {
      if (this.downSince !== undefined) this.backAt = now;
      this.downSince = undefined;
    } else if (this.status === 'open') {
      this.downSince = now;
    }
    this.status = status;
    this.frame.request();
  }

  private fetchBroker(client: TickcastClient): void {
    client.request({ action: 'get_broker_info' }).subscribe({
      next: (info) => {
        this.broker = typeof info['broker'] === 'string' ? info['broker'] : '';
        this.frame.request();
      },
      error: () => undefined, // the badge already says what went wrong with the connection
    });
  }

  /**
   * LTP and Quote streams of a row, merged: with both modes held the proxy sends each tick once,
   * tagged LTP or Quote, so together they carry every price change.
   */
  private subscribeRow(inst: Instrument): void {
    const client = this.client;
    if (!client) return;
    const sub = merge(client.ticks$(inst.symbol, inst.exchange, 'LTP'), client.ticks$(inst.symbol, inst.exchange, 'Quote')).subscribe({
      next: (tick) => this.onTick(inst.id, tick),
      error: (err: unknown) => {
        // A refused key is reported once, by status$; a refused symbol says so on its row.
        const quote = this.quotes.get(inst.id);
        if (err instanceof TickcastSubscribeError && quote) {
          quote.refused = `${err.code}: ${err.serverMessage}`;
          this.frame.request();
        }
      },
    });
    this.rows.set(inst.id, sub);
  }

  /** The selected symbol's Depth stream; the previous one is let go (the client unsubscribes after its grace). */
  private subscribeDepth(): void {
    this.depthSubscription?.unsubscribe();
    this.ladder = undefined;
    const client = this.client;
    const inst = this.instruments.find((i) => i.id === this.selected);
    if (!client || !inst) return;
    this.depthSubscription = client.ticks$(inst.symbol, inst.exchange, 'Depth').subscribe({
      next: (tick) => {
        // Depth ticks reach only this stream once Depth is held, so they count for the row too.
        const now = this.onTick(inst.id, tick);
        if (tick.data.depth) this.ladder = ladder(tick.data.depth, LADDER_LEVELS, tick.data.ltp, now);
      },
      error: () => undefined,
    });
  }

  /** Folds a tick into its quote and candles; returns when it arrived. */
  private onTick(id: string, tick: MarketData): number {
    const now = Date.now();
    this.meter.add(now);
    const { ltp, volume, timestamp } = tick.data;
    const at = tickTime(timestamp, now);
    const quote = this.quotes.get(id);
    if (quote) applyTick(quote, tick.data, now, at);
    if (typeof ltp === 'number') this.bars.get(id)?.add(ltp, at, typeof volume === 'number' ? volume : undefined);
    this.frame.request();
    return now;
  }

  private select(id: string): void {
    if (id === this.selected) return;
    this.selected = id;
    this.subscribeDepth();
    this.frame.request();
  }

  private addFromInput(input: HTMLInputElement): void {
    const inst = parseInstrument(input.value);
    if (!inst) {
      input.setCustomValidity('Write EXCHANGE:SYMBOL, e.g. NSE:SBIN');
      input.reportValidity();
      return;
    }
    input.setCustomValidity('');
    input.value = '';
    if (!this.quotes.has(inst.id)) {
      this.instruments.push(inst);
      this.track(inst);
      this.watchlist.add(inst);
      this.subscribeRow(inst);
      this.rememberWatchlist();
    }
    this.select(inst.id);
  }

  private remove(id: string): void {
    const i = this.instruments.findIndex((inst) => inst.id === id);
    if (i < 0) return;
    this.instruments.splice(i, 1);
    this.rows.get(id)?.unsubscribe();
    this.rows.delete(id);
    this.quotes.delete(id);
    this.bars.delete(id);
    this.watchlist.remove(id);
    if (this.selected === id) {
      this.selected = (this.instruments[i] ?? this.instruments[i - 1])?.id;
      this.subscribeDepth();
    }
    this.rememberWatchlist();
    this.frame.request();
  }

  /** Puts the watchlist in the address bar, so a reload or a bookmark keeps it. */
  private rememberWatchlist(): void {
    history.replaceState(null, '', `${location.pathname}${searchWithWatchlist(location.search, this.instruments)}${location.hash}`);
  }

  private render(now: number): void {
    const connected = this.status === 'open';
    const backFor = this.backAt !== undefined && now - this.backAt < RECOVERED_NOTE_MS ? now - this.backAt : undefined;
    renderStatus(
      byId('status'),
      byId('status-text'),
      this.status,
      this.downSince !== undefined ? now - this.downSince : undefined,
      backFor,
    );
    setText(byId('tps'), String(this.meter.perSecond(now)));
    setText(byId('symbol-count'), String(this.instruments.length));
    setText(byId('broker'), this.broker || '—');
    this.watchlist.render(this.quotes, this.selected, now, connected, this.staleMs);

    const inst = this.instruments.find((i) => i.id === this.selected);
    const quote = inst ? this.quotes.get(inst.id) : undefined;
    const refused = quote?.refused !== undefined;
    const book = this.ladder;
    const bookState = freshness(book?.at ?? 0, now, connected, this.staleMs, refused);
    this.book.render(inst, book, bookState, book ? now - book.at : quote ? now - quote.addedAt : undefined);

    const bars = inst ? this.bars.get(inst.id) : undefined;
    setText(byId('chart-title'), inst ? `${inst.symbol} · ${inst.exchange}` : 'Chart');
    this.chart.render(bars, this.barSize);
    const chartState = freshness(quote?.updatedAt ?? 0, now, connected, this.staleMs, refused);
    const updated = quote?.updatedAt ? quote.updatedAt : quote?.addedAt;
    renderFreshness(byId('chart-panel'), byId('chart-state'), chartState, updated !== undefined ? now - updated : undefined);
    setText(byId('chart-last'), formatPrice(bars?.series.get(this.barSize)?.last?.close));
  }
}

function main(): void {
  const dashboard = new Dashboard(webSocketUrl(location));
  const apiKey = takeApiKey(location, sessionStorage, (url) => history.replaceState(null, '', url));
  if (apiKey) dashboard.connect(apiKey);
  else dashboard.askForKey();
}

main();
