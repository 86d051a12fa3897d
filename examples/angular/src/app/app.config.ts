import { type ApplicationConfig, provideBrowserGlobalErrorListeners } from '@angular/core';
import { TICKCAST_CONFIG, type TickcastConfig } from './tickcast.service';

/**
 * Read when the app starts, never built into the bundle: `?ws=` names the proxy (default: the server
 * the app came from) and `#key=` hands over the user's API key (your sign-in flow would). Browsers
 * never send the fragment to a server; the key moves into this tab's session storage and out of the
 * address bar.
 */
function configFromLocation(): TickcastConfig {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const key = fragment.get('key');
  if (key) {
    sessionStorage.setItem('tickcast.apiKey', key);
    fragment.delete('key');
    history.replaceState(null, '', `${location.pathname}${location.search}${fragment.size ? `#${fragment}` : ''}`);
  }
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return {
    url: new URLSearchParams(location.search).get('ws') ?? `${scheme}//${location.host}/`,
    apiKey: sessionStorage.getItem('tickcast.apiKey') ?? '',
  };
}

export const appConfig: ApplicationConfig = {
  providers: [provideBrowserGlobalErrorListeners(), { provide: TICKCAST_CONFIG, useFactory: configFromLocation }],
};
