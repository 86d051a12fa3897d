import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountDashboard, pageCsp } from '../src/dashboard';
import { HttpRoutes } from '../src/http';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function get(server: Server, path: string, method = 'GET'): Promise<Reply> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

async function serve(dir: string): Promise<Server> {
  const routes = new HttpRoutes();
  mountDashboard(routes, { dir });
  const server = createServer(routes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const STYLE = '\nbody { color: red; }\n';
const HTML = `<!doctype html><html><head><style>${STYLE}</style><script src="app.js" defer></script></head><body></body></html>`;

describe('mountDashboard', () => {
  let dir: string;
  let server: Server;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tickcast-page-'));
    writeFileSync(join(dir, 'index.html'), HTML);
    writeFileSync(join(dir, 'app.js'), 'console.log("app")');
    server = await serve(dir);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page at / with a policy that allows only its own script, style and WebSocket', async () => {
    const reply = await get(server, '/');
    expect(reply.status).toBe(200);
    expect(reply.body).toBe(HTML);
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    expect(reply.headers['referrer-policy']).toBe('no-referrer');
    const hash = createHash('sha256').update(STYLE).digest('base64');
    expect(reply.headers['content-security-policy']).toBe(
      `default-src 'none'; script-src 'self'; style-src 'sha256-${hash}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    );
  });

  it('serves the script at /app.js, and the page with a query string too', async () => {
    const script = await get(server, '/app.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body).toBe('console.log("app")');
    expect((await get(server, '/?symbols=NSE:TCS')).body).toBe(HTML);
  });

  it('answers HEAD with the headers and no body', async () => {
    const reply = await get(server, '/', 'HEAD');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-length']).toBe(String(Buffer.byteLength(HTML)));
    expect(reply.body).toBe('');
  });

  it('says how to build the page when it is not built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tickcast-page-'));
    const bare = await serve(empty);
    try {
      const reply = await get(bare, '/');
      expect(reply.status).toBe(503);
      expect(reply.body).toContain('Run `npm run build`');
      expect((await get(bare, '/app.js')).status).toBe(503);
    } finally {
      await new Promise((resolve) => bare.close(resolve));
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('pageCsp', () => {
  it('allows no inline style when the page has none', () => {
    expect(pageCsp('<html></html>')).toContain("style-src 'none'");
  });
});
