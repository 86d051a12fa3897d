import { AsyncPipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { LivePriceComponent } from './live-price.component';
import { QuoteComponent } from './quote.component';
import { TickcastService } from './tickcast.service';

/** A connection badge, a watchlist rendered with the async pipe, and one price that follows a signal. */
@Component({
  selector: 'app-root',
  imports: [AsyncPipe, LivePriceComponent, QuoteComponent],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <header>
      <h1>Tickcast · Angular</h1>
      <span class="status" [attr.data-status]="status$ | async">{{ status$ | async }}</span>
    </header>
    <section>
      <h2>Watchlist <small>async pipe</small></h2>
      <ul class="watchlist">
        @for (item of watchlist; track item.symbol) {
          <li><app-quote [symbol]="item.symbol" [exchange]="item.exchange" /></li>
        }
      </ul>
    </section>
    <section>
      <h2>Index <small>signals</small></h2>
      <p class="index">
        @for (index of indices; track index) {
          <button type="button" [class.selected]="index === selected()" (click)="selected.set(index)">{{ index }}</button>
        }
      </p>
      <p class="live"><app-live-price [symbol]="selected()" exchange="NSE_INDEX" /></p>
    </section>
  `,
})
export class AppComponent {
  protected readonly status$ = inject(TickcastService).status$;
  protected readonly watchlist = [
    { symbol: 'RELIANCE', exchange: 'NSE' },
    { symbol: 'TCS', exchange: 'NSE' },
    { symbol: 'INFY', exchange: 'NSE' },
    { symbol: 'BTC_INR', exchange: 'CRYPTO' },
  ];
  protected readonly indices = ['NIFTY', 'BANKNIFTY'];
  /** The index shown; a click switches the live price's stream. */
  protected readonly selected = signal('NIFTY');
}
