/**
 * OpenAlgo's own React client logic, `frontend/src/lib/MarketDataManager.ts`, run unchanged against
 * Tickcast + the feed host with a key from OpenAlgo's database, as an OpenAlgo page would. The file
 * is OpenAlgo's, not ours: the test runs when OPENALGO_SRC names an OpenAlgo checkout (the directory
 * holding `frontend/`), and is skipped otherwise. It is transpiled as it is and run in a context of
 * its own per browser tab, with `ws` as its WebSocket and a `fetch` that answers the three OpenAlgo
 * endpoints it calls (CSRF token, WebSocket config, the user's API key) as OpenAlgo's Flask app does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import ts from 'typescript';
import WebSocket from 'ws';
import { describeWithPyHost, type OpenAlgoStack, startOpenAlgoStack, type StubUser } from '../helpers/openalgoHost';
import { scopes, until } from '../helpers/scope';

jest.setTimeout(60_000);

const { suite } = scopes();
const WAIT_MS = 15_000;
const ALICE: StubUser = {
  userId: 'alice',
  apiKey: 'a3f1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9',
  broker: 'fakebroker',
};
const SOURCE = process.env['OPENALGO_SRC']
  ? join(process.env['OPENALGO_SRC'], 'frontend', 'src', 'lib', 'MarketDataManager.ts')
  : undefined;
const describeIfSource = SOURCE && existsSync(SOURCE) ? describeWithPyHost('control-openalgo-clients.test') : describe.skip;
if (!SOURCE) process.stderr.write('control-openalgo-clients.test: skipping: set OPENALGO_SRC to an OpenAlgo checkout to run it\n');

interface SymbolData {
  symbol: string;
  exchange: string;
  data: { ltp?: number };
}
interface Manager {
  subscribe(symbol: string, exchange: string, mode: 'LTP' | 'Quote' | 'Depth', cb: (d: SymbolData) => void): () => void;
  connect(): Promise<void>;
  disconnect(): void;
  setAutoReconnect(enabled: boolean): void;
  getState(): { connectionState: string; error: string | null };
}

describeIfSource("OpenAlgo's MarketDataManager against Tickcast with a key from OpenAlgo's database", () => {
  let stack: OpenAlgoStack;
  let code: string;

  /** One browser tab: OpenAlgo's module evaluated afresh, its singleton manager. */
  const tab = (apiKey: string): Manager => {
    const answers: Record<string, unknown> = {
      '/auth/csrf-token': { csrf_token: 'csrf' },
      '/api/websocket/config': { status: 'success', websocket_url: stack.wsUrl },
      '/api/websocket/apikey': { status: 'success', api_key: apiKey },
    };
    const fetch = async (url: string): Promise<{ ok: boolean; json(): Promise<unknown> }> => ({
      ok: url in answers,
      json: async () => answers[url] ?? { status: 'error' },
    });
    const module = { exports: {} as Record<string, unknown> };
    const context = createContext({
      module,
      exports: module.exports,
      fetch,
      WebSocket,
      AbortController,
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
      console,
      Date,
      JSON,
      Map,
      Set,
      Promise,
      Error,
    });
    runInContext(code, context);
    const manager = (module.exports['MarketDataManager'] as { getInstance(): Manager }).getInstance();
    suite.add({
      close: () => {
        // disconnect() starts a close handshake; Tickcast stops right after, so cut the socket too
        // (ws would otherwise keep a 30 s close timer alive).
        const socket = (manager as unknown as { socket: WebSocket | null }).socket;
        manager.setAutoReconnect(false);
        manager.disconnect();
        socket?.terminate();
      },
    });
    return manager;
  };

  beforeAll(async () => {
    code = ts.transpileModule(readFileSync(SOURCE as string, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    stack = await startOpenAlgoStack(suite, [ALICE]);
    await until(async () => (await fetch(`${stack.httpUrl}/readyz`)).status === 200, 'the feed host to answer', WAIT_MS, 50);
  });

  it('authenticates, gets live ticks the adapter was asked for once for two tabs, and the last tab leaving unsubscribes the adapter', async () => {
    const tabs = [tab(ALICE.apiKey), tab(ALICE.apiKey)];
    const seen: SymbolData[][] = [[], []];
    const leave = tabs.map((m, i) => m.subscribe('reliance', 'nse', 'Quote', (d) => seen[i]!.push(d)));
    await Promise.all(tabs.map((m) => m.connect()));
    await until(() => tabs.every((m) => m.getState().connectionState === 'authenticated'), 'both tabs authenticated', WAIT_MS);
    await until(() => seen.every((s) => s.some((d) => typeof d.data.ltp === 'number')), 'ticks in both tabs', WAIT_MS);
    expect(seen[0]!.find((d) => typeof d.data.ltp === 'number')).toMatchObject({ symbol: 'RELIANCE', exchange: 'NSE' });
    expect(stack.oa.callsOf('subscribe')).toEqual([['alice', 'RELIANCE', 2]]);
    expect(tabs.map((m) => m.getState().error)).toEqual([null, null]);

    leave[0]!();
    leave[1]!();
    await until(() => stack.oa.callsOf('unsubscribe').length === 1, "the adapter's unsubscribe", WAIT_MS);
    expect(stack.oa.callsOf('unsubscribe')).toEqual([['alice', 'RELIANCE', 2]]);
  });

  it('shows the refusal of a key not in the database as it does under OpenAlgo’s proxy', async () => {
    const m = tab('ffff' + ALICE.apiKey.slice(4));
    await m.connect();
    await until(() => m.getState().error !== null, 'an error', WAIT_MS);
    // Both send the error envelope {"status":"error","code":"AUTHENTICATION_ERROR",…} with no
    // `type`; the manager reads `type || status`, so it is a "WebSocket error" there as here.
    expect(m.getState().error).toBe('WebSocket error: Invalid API key');
  });
});
