import { DecimalPipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { toObservable, toSignal } from '@angular/core/rxjs-interop';
import { startWith, switchMap } from 'rxjs';
import { TickcastService } from './tickcast.service';

/** `<app-live-price [symbol]="'NIFTY'" exchange="NSE_INDEX" />`, with signals: follows input changes. */
@Component({
  selector: 'app-live-price',
  imports: [DecimalPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `{{ symbol() }} <strong class="ltp">{{ tick()?.data?.ltp | number: '1.2-2' }}</strong>`,
})
export class LivePriceComponent {
  readonly symbol = input.required<string>();
  readonly exchange = input('NSE');

  private readonly tickcast = inject(TickcastService);
  private readonly key = computed(() => ({ symbol: this.symbol(), exchange: this.exchange() }));

  /**
   * The latest tick; a new symbol switches streams (the old one is let go) and starts empty, so the
   * old symbol's last price is never shown under the new name.
   */
  protected readonly tick = toSignal(
    toObservable(this.key).pipe(
      switchMap(({ symbol, exchange }) => this.tickcast.ticks$(symbol, exchange, 'Quote').pipe(startWith(undefined))),
    ),
  );
}
