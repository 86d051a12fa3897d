import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers one HTTP request; return false to fall through to 404. */
export type Route = (req: IncomingMessage, res: ServerResponse) => void | boolean | Promise<void | boolean>;

/**
 * The HTTP side of the proxy's one port: exact-path GET routes (health, readiness, metrics, the
 * dashboard), 404 for the rest, 405 for other methods. A route that throws gets a 500, never a crash.
 */
export class HttpRoutes {
  private readonly routes = new Map<string, Route>();

  /** Adds or replaces the route for `path` (query strings are ignored when matching). */
  set(path: string, route: Route): this {
    this.routes.set(path, route);
    return this;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const route = this.routes.get(path);
    if (!route) return text(res, 404, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return text(res, 405, 'method not allowed\n');
    }
    Promise.resolve()
      .then(() => route(req, res))
      .then(
        (handled) => {
          if (handled === false && !res.headersSent) text(res, 404, 'not found\n');
        },
        () => {
          if (!res.headersSent) text(res, 500, 'internal error\n');
          else res.destroy();
        },
      );
  };
}

/** Sends a small text response. */
export function text(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
