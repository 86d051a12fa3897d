import type { ApplicationConfig } from '@angular/core';
import { TICKCAST_CONFIG } from './tickcast.service';

export const appConfig: ApplicationConfig = {
  providers: [
    {
      provide: TICKCAST_CONFIG,
      // The user's own key from your sign-in flow: never build an API key into the bundle.
      useFactory: () => ({ url: `wss://${location.host}/ws`, apiKey: sessionStorage.getItem('tickcast.apiKey') ?? '' }),
    },
  ],
};
