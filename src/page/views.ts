/**
 * The page's DOM: each view builds its elements once and, on render, writes only the text that
 * changed. Views never subscribe to anything; `main.ts` feeds them from the client's streams.
 */
import type { TickcastStatus } from '../client';
import {
  changePercent,
  formatAge,
  formatPercent,
  formatPrice,
  formatQuantity,
  formatVolume,
  type Instrument,
  type Ladder,
  type LadderLevel,
  LADDER_LEVELS,
  NO_VALUE,
  type Quote,
} from './model';

/** A row is stale (dimmed) when no tick came for this long. */
const STALE_MS = 10_000;
const FLASH_MS = 700;
const FLASH_UP = 'rgba(46, 204, 113, 0.3)';
const FLASH_DOWN = 'rgba(255, 107, 94, 0.3)';

/** Finds an element the page's HTML must have. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}: dist/page/index.html and app.js are from different builds; run npm run build`);
  return element as T;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Sets `text` unless the element already shows it (a DOM write costs more than the compare). */
export function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

function setClass(element: HTMLElement, name: string, on: boolean): void {
  if (element.classList.contains(name) !== on) element.classList.toggle(name, on);
}

/** Briefly tints a cell green or red; restarting mid-flash is fine (the animation restarts). */
function flash(element: HTMLElement, up: boolean): void {
  element.animate?.([{ backgroundColor: up ? FLASH_UP : FLASH_DOWN }, { backgroundColor: 'transparent' }], {
    duration: FLASH_MS,
    easing: 'ease-out',
  });
}

interface WatchRow {
  readonly tr: HTMLTableRowElement;
  readonly ltp: HTMLElement;
  readonly change: HTMLElement;
  readonly volume: HTMLElement;
  readonly age: HTMLElement;
  /** The price this row showed last, to tell which way it moved. */
  shownLtp: number | undefined;
}

/** The watchlist table: one row per instrument; a click (or Enter) on a row selects it. */
export class WatchlistView {
  private readonly rows = new Map<string, WatchRow>();

  constructor(
    private readonly tbody: HTMLTableSectionElement,
    handlers: { select(id: string): void; remove(id: string): void; move(id: string, by: 1 | -1): void },
  ) {
    tbody.addEventListener('click', (event) => {
      const target = event.target as HTMLElement;
      const tr = target.closest('tr');
      const id = tr?.dataset['id'];
      if (!id) return;
      if (target.closest('button.remove')) handlers.remove(id);
      else handlers.select(id);
    });
    tbody.addEventListener('keydown', (event) => {
      const tr = (event.target as HTMLElement).closest('tr');
      const id = tr?.dataset['id'];
      if (!id || (event.target as HTMLElement).closest('button')) return;
      if (event.key === 'Enter' || event.key === ' ') handlers.select(id);
      else if (event.key === 'ArrowDown') handlers.move(id, 1);
      else if (event.key === 'ArrowUp') handlers.move(id, -1);
      else return;
      event.preventDefault();
    });
  }

  add(inst: Instrument): void {
    if (this.rows.has(inst.id)) return;
    const tr = el('tr');
    tr.dataset['id'] = inst.id;
    tr.tabIndex = 0;
    const symbol = el('td', 'symbol', inst.symbol);
    const exchange = el('td', 'exchange', inst.exchange);
    const ltp = el('td', 'num ltp', NO_VALUE);
    const change = el('td', 'num change', NO_VALUE);
    const volume = el('td', 'num volume', NO_VALUE);
    const age = el('td', 'num age', NO_VALUE);
    const actions = el('td', 'actions');
    const remove = el('button', 'remove', '×');
    remove.type = 'button';
    remove.title = `Remove ${inst.id} from the watchlist`;
    remove.setAttribute('aria-label', remove.title);
    actions.append(remove);
    tr.append(symbol, exchange, ltp, change, volume, age, actions);
    this.tbody.append(tr);
    this.rows.set(inst.id, { tr, ltp, change, volume, age, shownLtp: undefined });
  }

  remove(id: string): void {
    this.rows.get(id)?.tr.remove();
    this.rows.delete(id);
  }

  focus(id: string): void {
    this.rows.get(id)?.tr.focus();
  }

  /** Writes what changed since the last render; ages move on every call. */
  render(quotes: ReadonlyMap<string, Quote>, selected: string | undefined, now: number): void {
    for (const [id, row] of this.rows) {
      const quote = quotes.get(id);
      setClass(row.tr, 'selected', id === selected);
      row.tr.setAttribute('aria-selected', String(id === selected));
      if (!quote || quote.ticks === 0) continue;
      if (quote.ltp !== row.shownLtp) {
        if (quote.ltp !== undefined && row.shownLtp !== undefined) flash(row.ltp, quote.ltp > row.shownLtp);
        row.shownLtp = quote.ltp;
        setText(row.ltp, formatPrice(quote.ltp));
      }
      const change = changePercent(quote);
      setText(row.change, formatPercent(change));
      setClass(row.change, 'up', change !== undefined && change > 0);
      setClass(row.change, 'down', change !== undefined && change < 0);
      setText(row.volume, formatVolume(quote.volume));
      const age = now - quote.updatedAt;
      setText(row.age, formatAge(age));
      setClass(row.tr, 'stale', age > STALE_MS);
    }
  }
}

interface LadderCells {
  readonly orders: HTMLElement;
  readonly quantity: HTMLElement;
  readonly bar: HTMLElement;
  readonly price: HTMLElement;
}

/** The order-book ladder: {@link LADDER_LEVELS} rows, best bid and best ask at the top. */
export class BookView {
  private readonly bids: LadderCells[] = [];
  private readonly asks: LadderCells[] = [];

  constructor(
    tbody: HTMLTableSectionElement,
    private readonly title: HTMLElement,
    private readonly meta: { spread: HTMLElement; levels: HTMLElement; bidTotal: HTMLElement; askTotal: HTMLElement; ltp: HTMLElement },
  ) {
    const cells = (side: 'bid' | 'ask'): [LadderCells, HTMLElement[]] => {
      const orders = el('td', `num ${side}-orders`);
      const quantity = el('span', 'qty');
      const bar = el('span', 'bar');
      const qtyCell = el('td', `num ${side}-qty`);
      qtyCell.append(bar, quantity);
      const price = el('td', `num ${side}-price`);
      const tds = side === 'bid' ? [orders, qtyCell, price] : [price, qtyCell, orders];
      return [{ orders, quantity, bar, price }, tds];
    };
    for (let i = 0; i < LADDER_LEVELS; i++) {
      const tr = el('tr');
      const [bid, bidTds] = cells('bid');
      const [ask, askTds] = cells('ask');
      tr.append(...bidTds, ...askTds);
      tbody.append(tr);
      this.bids.push(bid);
      this.asks.push(ask);
    }
  }

  /** Shows `inst`'s book, or an empty ladder while its first Depth tick is on its way. */
  render(inst: Instrument | undefined, book: Ladder | undefined, ltp: number | undefined): void {
    setText(this.title, inst ? `${inst.symbol} · ${inst.exchange}` : 'Order book');
    const decimals = book?.quantityDecimals ?? 0;
    const fill = (rows: readonly LadderCells[], levels: readonly LadderLevel[] = []): void => {
      rows.forEach((cells, i) => {
        const level = levels[i];
        setText(cells.price, level ? formatPrice(level.price) : '');
        setText(cells.quantity, level ? formatQuantity(level.quantity, decimals) : '');
        setText(cells.orders, level?.orders !== undefined ? String(level.orders) : '');
        cells.bar.style.transform = `scaleX(${level ? level.share.toFixed(3) : 0})`;
      });
    };
    fill(this.bids, book?.bids);
    fill(this.asks, book?.asks);
    setText(this.meta.ltp, formatPrice(ltp));
    setText(this.meta.spread, formatPrice(book?.spread, book?.bids[0]?.price));
    // A feed may send fewer levels than the ladder has rows (the simulator's default is 5).
    setText(this.meta.levels, book ? `${Math.max(book.bids.length, book.asks.length)} / ${LADDER_LEVELS}` : NO_VALUE);
    setText(this.meta.bidTotal, book ? formatQuantity(book.bidQuantity, decimals) : NO_VALUE);
    setText(this.meta.askTotal, book ? formatQuantity(book.askQuantity, decimals) : NO_VALUE);
  }
}

/** What the status badge says for each state of the client. */
const STATUS_TEXT: Readonly<Record<TickcastStatus | 'refused' | 'failed', string>> = {
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
  refused: 'Key refused',
  failed: 'Connection failed',
};

/** The connection badge; `data-status` drives its colour. */
export function renderStatus(badge: HTMLElement, label: HTMLElement, status: keyof typeof STATUS_TEXT): void {
  if (badge.dataset['status'] !== status) badge.dataset['status'] = status;
  setText(label, STATUS_TEXT[status]);
}
