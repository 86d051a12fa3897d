import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { type HttpRoutes, text } from './http';

/** Options of {@link mountDashboard}. */
export interface DashboardOptions {
  /**
   * The folder `scripts/build-page.js` wrote (`index.html`, `app.js`). Default: `dist/page`, found
   * from this module whether it runs built (`dist/src/`) or from source (`src/`, under ts-jest).
   */
  readonly dir?: string;
}

/** The built page, read once and kept: it does not change while the proxy runs. */
interface PageFiles {
  readonly html: Buffer;
  readonly script: Buffer;
  readonly csp: string;
}

/** Where the page is built to, relative to the project root. */
const PAGE_DIR = join('dist', 'page');

function defaultDir(): string {
  const candidates = [join(__dirname, '..', 'page'), join(__dirname, '..', PAGE_DIR)];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? (candidates[0] as string);
}

/**
 * The page's Content-Security-Policy: its own script, its inline stylesheet by hash, WebSocket and
 * nothing else from its own origin, nothing from anywhere else, and no framing.
 */
export function pageCsp(html: string): string {
  const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map(
    (m) =>
      `'sha256-${createHash('sha256')
        .update(m[1] as string)
        .digest('base64')}'`,
  );
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src ${styles.length > 0 ? styles.join(' ') : "'none'"}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function readPage(dir: string): PageFiles | undefined {
  try {
    const html = readFileSync(join(dir, 'index.html'));
    const script = readFileSync(join(dir, 'app.js'));
    return { html, script, csp: pageCsp(html.toString('utf8')) };
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, body: Buffer, type: string, csp?: string): void {
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    // A rebuilt proxy serves a new page: browsers revalidate rather than keep an old app.js.
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...(csp ? { 'content-security-policy': csp } : {}),
  });
  res.end(body);
}

/**
 * Serves the demo dashboard on the proxy's HTTP port: `GET /` (the page) and `GET /app.js` (its
 * script), built from `src/page/` by `npm run build`. The page holds no secret: it asks the user for
 * an API key (or reads the `#key=` fragment of its URL, which browsers never send to a server), so
 * it is safe to serve to anyone who can reach the port.
 *
 * @example
 * if (config.dashboard) mountDashboard(routes);
 */
export function mountDashboard(routes: HttpRoutes, options: DashboardOptions = {}): void {
  const dir = options.dir ?? defaultDir();
  let page: PageFiles | undefined;
  const load = (): PageFiles | undefined => (page ??= readPage(dir));
  const notBuilt = (res: ServerResponse): void =>
    text(
      res,
      503,
      `The dashboard page is not built (no index.html and app.js in ${dir}). Run \`npm run build\`, then restart the proxy.\n`,
    );

  routes.set('/', (_req, res) => {
    const files = load();
    if (!files) return notBuilt(res);
    send(res, files.html, 'text/html; charset=utf-8', files.csp);
  });
  routes.set('/app.js', (_req, res) => {
    const files = load();
    if (!files) return notBuilt(res);
    send(res, files.script, 'text/javascript; charset=utf-8');
  });
}
