import { AsyncPipe, DecimalPipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, inject, Input, type OnInit } from '@angular/core';
import type { Observable } from 'rxjs';
import type { MarketData } from 'tickcast/client';
import { TickcastService } from './tickcast.service';

/** `<app-quote symbol="RELIANCE" exchange="NSE" />`: the live price and volume of one symbol. */
@Component({
  selector: 'app-quote',
  imports: [AsyncPipe, DecimalPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <span class="symbol">{{ exchange }}:{{ symbol }}</span>
    @if (tick$ | async; as tick) {
      <strong class="ltp">{{ tick.data.ltp | number: '1.2-2' }}</strong> <span class="volume">vol {{ tick.data.volume | number }}</span>
    } @else {
      <strong class="ltp">…</strong>
    }
  `,
})
export class QuoteComponent implements OnInit {
  @Input({ required: true }) symbol = '';
  @Input() exchange = 'NSE';

  private readonly tickcast = inject(TickcastService);
  protected tick$?: Observable<MarketData>;

  ngOnInit(): void {
    // The async pipe subscribes, and unsubscribes when the component is destroyed.
    this.tick$ = this.tickcast.ticks$(this.symbol, this.exchange, 'Quote');
  }
}
