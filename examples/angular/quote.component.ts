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
    @if (tick$ | async; as tick) {
      {{ tick.symbol }} <strong>{{ tick.data.ltp | number: '1.2-2' }}</strong> vol {{ tick.data.volume | number }}
    } @else {
      {{ symbol }} …
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
