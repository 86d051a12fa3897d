import WebSocket from 'ws';
import { createTickcastClient } from 'tickcast/client';

const client = createTickcastClient({
  url: process.env['TICKCAST_URL'] ?? 'ws://127.0.0.1:8765',
  apiKey: process.env['TICKCAST_API_KEY'] ?? '',
  WebSocketCtor: WebSocket, // Node 20 has no global WebSocket; Node 22+ can leave this out
});
client.status$.subscribe({ next: (status) => console.log('status', status), error: (err: Error) => console.error(err.message) });
client.ltp$('RELIANCE', 'NSE').subscribe((ltp) => console.log('NSE:RELIANCE', ltp));
client.ticks$('TCS', 'NSE', 'Quote').subscribe((t) => console.log('NSE:TCS', t.data.ltp, 'volume', t.data.volume));
// Ctrl+C (which npm may pass on a second time) or a stop: close the client; the process ends once the socket has.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => client.close());
