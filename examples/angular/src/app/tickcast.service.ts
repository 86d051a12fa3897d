import { DestroyRef, inject, Injectable, InjectionToken } from '@angular/core';
import type { Observable } from 'rxjs';
import { createTickcastClient, type MarketData, type ModeInput, type TickcastStatus } from 'tickcast/client';

/** Where the proxy is, and the signed-in user's API key. */
export interface TickcastConfig {
  readonly url: string;
  readonly apiKey: string;
}

export const TICKCAST_CONFIG = new InjectionToken<TickcastConfig>('TICKCAST_CONFIG');

/**
 * One connection for the whole app. Components that show the same symbol share one server
 * subscription; it survives reconnects and is dropped shortly after the last component goes.
 */
@Injectable({ providedIn: 'root' })
export class TickcastService {
  private readonly client = createTickcastClient(inject(TICKCAST_CONFIG));

  /** `connecting` → `open` ⇄ `reconnecting`; for a connection badge. */
  readonly status$: Observable<TickcastStatus> = this.client.status$;

  constructor() {
    inject(DestroyRef).onDestroy(() => this.client.close());
  }

  ticks$(symbol: string, exchange: string, mode: ModeInput = 'Quote'): Observable<MarketData> {
    return this.client.ticks$(symbol, exchange, mode);
  }
}
