/**
 * The page's DOM: each view builds its elements once and, on render, writes only the text that
 * changed. Views never subscribe to anything; `main.ts` feeds them from the client's streams.
 */
import type { TickcastStatus } from '../client';
import {
  changePercent,
  type Freshness,
  freshness,
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

const FLASH_MS = 700;
const FLASH_UP = 'rgba(46, 204, 113, 0.3)';
const FLASH_DOWN = 'rgba(255, 107, 94, 0.3)';
/** Levels per side the ladder shows when stacked (a phone, a narrow panel): the best ones. */
export const STACKED_LEVELS = 10;
/** Below this width (px) the ladder stacks asks over bids instead of showing them side by side. */
const STACK_BELOW_PX = 460;

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

/** What a row says in place of a price it does not have. */
const NOT_LIVE_TEXT: Readonly<Partial<Record<Freshness, string>>> = { waiting: 'no tick yet', refused: 'refused' };

/** A state's words for a badge or a tooltip, with the age where it has one. */
export function freshnessText(state: Freshness, ageMs: number | undefined): string {
  switch (state) {
    case 'live':
      return 'Live';
    case 'stale':
      return `Stale · ${formatAge(ageMs)}`;
    case 'offline':
      return `Offline · ${formatAge(ageMs)}`;
    case 'waiting':
      return ageMs === undefined ? 'No tick yet' : `No tick yet · ${formatAge(ageMs)}`;
    case 'refused':
      return 'Refused by the server';
  }
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
    tr.dataset['state'] = 'waiting';
    tr.tabIndex = 0;
    const symbol = el('td', 'symbol', inst.symbol);
    symbol.title = inst.id;
    const exchange = el('td', 'exchange', inst.exchange);
    const ltp = el('td', 'num ltp', NOT_LIVE_TEXT.waiting);
    const change = el('td', 'num change');
    const volume = el('td', 'num volume');
    const age = el('td', 'num age');
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

  /**
   * Writes what changed since the last render; ages move on every call. A row that is not live
   * says why (greyed with its age when stale or offline; in words when it never ticked or was
   * refused), so an old price never passes for a live one.
   */
  render(quotes: ReadonlyMap<string, Quote>, selected: string | undefined, now: number, connected: boolean, staleMs: number): void {
    for (const [id, row] of this.rows) {
      const quote = quotes.get(id);
      setClass(row.tr, 'selected', id === selected);
      row.tr.setAttribute('aria-selected', String(id === selected));
      if (!quote) continue;
      const state = freshness(quote.updatedAt, now, connected, staleMs, quote.refused !== undefined);
      if (row.tr.dataset['state'] !== state) row.tr.dataset['state'] = state;
      const notLive = NOT_LIVE_TEXT[state];
      if (notLive !== undefined) {
        row.shownLtp = undefined;
        setText(row.ltp, notLive);
        setText(row.change, '');
        setText(row.volume, '');
        setText(row.age, state === 'waiting' ? formatAge(now - quote.addedAt) : '');
        const title = state === 'refused' ? `Refused by the server: ${quote.refused ?? ''}` : freshnessText(state, now - quote.addedAt);
        if (row.tr.title !== title) row.tr.title = title;
        continue;
      }
      if (quote.ltp !== row.shownLtp) {
        if (quote.ltp !== undefined && row.shownLtp !== undefined) flash(row.ltp, quote.ltp > row.shownLtp);
        row.shownLtp = quote.ltp;
        setText(row.ltp, formatPrice(quote.ltp));
      }
      const change = changePercent(quote);
      setText(row.change, formatPercent(change));
      setClass(row.change, 'up', change !== undefined && change > 0);
      setClass(row.change, 'down', change !== undefined && change < 0);
      // An index has no volume: its cell stays empty rather than showing a dash for a number to come.
      setText(row.volume, quote.volume === undefined ? '' : formatVolume(quote.volume));
      const age = now - quote.updatedAt;
      setText(row.age, formatAge(age));
      const title = freshnessText(state, age);
      if (row.tr.title !== title) row.tr.title = title;
    }
  }
}

interface LadderCells {
  readonly row: HTMLElement;
  readonly orders: HTMLElement;
  readonly quantity: HTMLElement;
  readonly bar: HTMLElement;
  readonly price: HTMLElement;
}

/** The elements around the ladder that {@link BookView} writes. */
export interface BookMeta {
  readonly spread: HTMLElement;
  readonly levels: HTMLElement;
  readonly bidTotal: HTMLElement;
  readonly askTotal: HTMLElement;
  readonly ltp: HTMLElement;
  readonly state: HTMLElement;
  readonly panel: HTMLElement;
}

/**
 * The order-book ladder, {@link LADDER_LEVELS} rows a side: bids and asks side by side, best at the
 * top; in a narrow panel (a phone) asks stacked over bids, best next to the spread, and only the
 * best {@link STACKED_LEVELS} of each. Columns size to their widest value, so a number is never
 * cut; the orders column is there only when the feed sends order counts.
 */
export class BookView {
  private readonly bids: LadderCells[] = [];
  private readonly asks: LadderCells[] = [];

  constructor(
    private readonly root: HTMLElement,
    private readonly title: HTMLElement,
    private readonly meta: BookMeta,
  ) {
    const side = (name: 'bid' | 'ask', heads: [string, string, string], into: LadderCells[]): HTMLElement => {
      const box = el('div', `side ${name}s`);
      box.setAttribute('role', 'table');
      box.setAttribute('aria-label', name === 'bid' ? 'Bids' : 'Asks');
      const head = el('div', 'lrow head');
      head.setAttribute('role', 'row');
      const [ord, qty, px] = heads;
      const ordHead = el('span', 'cell ord', ord);
      ordHead.title = 'Orders at this price';
      // Bids read orders · quantity · price towards the spread, asks price · quantity · orders away from it.
      const headCells =
        name === 'bid'
          ? [ordHead, el('span', 'cell qty-cell', qty), el('span', 'cell px', px)]
          : [el('span', 'cell px', px), el('span', 'cell qty-cell', qty), ordHead];
      for (const c of headCells) c.setAttribute('role', 'columnheader');
      head.append(...headCells);
      box.append(head);
      for (let i = 0; i < LADDER_LEVELS; i++) {
        const row = el('div', i < STACKED_LEVELS ? 'lrow' : 'lrow deep');
        row.setAttribute('role', 'row');
        const orders = el('span', `cell num ord ${name}-orders`);
        const quantity = el('span', 'qty');
        const bar = el('span', 'bar');
        const qtyCell = el('span', `cell num qty-cell ${name}-qty`);
        qtyCell.append(bar, quantity);
        const price = el('span', `cell num px ${name}-price`);
        const cells = name === 'bid' ? [orders, qtyCell, price] : [price, qtyCell, orders];
        for (const c of cells) c.setAttribute('role', 'cell');
        row.append(...cells);
        box.append(row);
        into.push({ row, orders, quantity, bar, price });
      }
      return box;
    };
    root.append(side('bid', ['Ord', 'Bid qty', 'Bid'], this.bids), side('ask', ['Ord', 'Ask qty', 'Ask'], this.asks));
  }

  /**
   * Shows `inst`'s book, or an empty ladder while its first Depth tick is on its way. The header
   * price is the book's own tick's, so header and rows never disagree.
   */
  render(inst: Instrument | undefined, book: Ladder | undefined, state: Freshness, ageMs: number | undefined): void {
    // Read before any write, so the frame lays out once.
    const stacked = this.root.clientWidth < STACK_BELOW_PX;
    setClass(this.root, 'stacked', stacked);
    setClass(this.root, 'no-orders', book !== undefined && !book.hasOrders);
    setText(this.title, inst ? `${inst.symbol} · ${inst.exchange}` : 'Order book');
    const decimals = book?.quantityDecimals ?? 0;
    const shown = stacked ? STACKED_LEVELS : LADDER_LEVELS;
    const fill = (rows: readonly LadderCells[], levels: readonly LadderLevel[] = [], reversed: boolean): void => {
      rows.forEach((cells, i) => {
        // Stacked asks run upwards to the spread: the best ask is in the last row shown.
        const level = i >= shown ? undefined : levels[reversed ? shown - 1 - i : i];
        setText(cells.price, level ? formatPrice(level.price) : '');
        setText(cells.quantity, level ? formatQuantity(level.quantity, decimals) : '');
        setText(cells.orders, level?.orders !== undefined ? String(level.orders) : '');
        cells.bar.style.transform = `scaleX(${level ? level.share.toFixed(3) : 0})`;
      });
    };
    fill(this.bids, book?.bids, false);
    fill(this.asks, book?.asks, stacked);
    setText(this.meta.ltp, formatPrice(book?.ltp));
    setText(this.meta.spread, formatPrice(book?.spread, book?.bids[0]?.price));
    // A feed may send fewer levels than the ladder has rows (the simulator's default is 5).
    setText(this.meta.levels, book ? `${Math.max(book.bids.length, book.asks.length)} / ${LADDER_LEVELS}` : NO_VALUE);
    setText(this.meta.bidTotal, book ? formatQuantity(book.bidQuantity, decimals) : NO_VALUE);
    setText(this.meta.askTotal, book ? formatQuantity(book.askQuantity, decimals) : NO_VALUE);
    renderFreshness(this.meta.panel, this.meta.state, state, ageMs);
  }
}

/** Marks a panel with its data's freshness (`data-state` greys it) and writes its badge. */
export function renderFreshness(panel: HTMLElement, badge: HTMLElement, state: Freshness, ageMs: number | undefined): void {
  if (panel.dataset['state'] !== state) panel.dataset['state'] = state;
  setText(badge, freshnessText(state, ageMs));
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

/**
 * The connection badge; `data-status` drives its colour. While the connection is down it says for
 * how long; for a while after it came back it says so, so a proxy restart does not pass unseen.
 */
export function renderStatus(
  badge: HTMLElement,
  label: HTMLElement,
  status: keyof typeof STATUS_TEXT,
  downForMs?: number,
  backForMs?: number,
): void {
  if (badge.dataset['status'] !== status) badge.dataset['status'] = status;
  let text = STATUS_TEXT[status];
  if (status === 'reconnecting' && downForMs !== undefined) text = `${text} ${formatAge(downForMs)}`;
  else if (status === 'open' && backForMs !== undefined) text = `${text} · reconnected ${formatAge(backForMs)} ago`;
  setText(label, text);
}
