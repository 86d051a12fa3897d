/** Something a test opens and must close so Jest exits with no open handles. */
export interface Closable {
  close(): unknown;
}

/**
 * Resources opened by a test (or a suite) and closed together, last opened first: clients before
 * the publisher, the publisher before the proxy. One scope per lifetime:
 *
 * @example
 * const suite = new Scope(); afterAll(() => suite.close());
 * const each = new Scope(); afterEach(() => each.close());
 */
export class Scope {
  private readonly open: Closable[] = [];

  /** Registers `resource` for {@link close}; returns it. */
  add<T extends Closable>(resource: T): T {
    this.open.push(resource);
    return resource;
  }

  /** Closes everything registered, last first; one failure does not keep the rest open. */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    while (this.open.length > 0) {
      const resource = this.open.pop() as Closable;
      try {
        await resource.close();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `condition` every `everyMs` until it holds; rejects with `what` after `timeoutMs`. For state
 * the test cannot be told about (a server noticing a dropped socket), never for timing claims.
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

let counter = 0;

/** A name no other test in this process uses, e.g. `uniq('INFY')` → `INFY7`: keeps snapshots apart. */
export function uniq(prefix: string): string {
  counter++;
  return `${prefix}${counter}`;
}

/**
 * The two scopes of a test file, with their Jest hooks registered: `each` closes after every test,
 * `suite` after the file.
 */
export function scopes(): { suite: Scope; each: Scope } {
  const suite = new Scope();
  const each = new Scope();
  afterEach(() => each.close());
  afterAll(() => suite.close());
  return { suite, each };
}
