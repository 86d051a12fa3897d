/** Reading the proxy's Prometheus `/metrics`, as a scraper does. */

/** `name{labels}` → value, from Prometheus text (comments and blank lines skipped). */
export function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

/** GET `${httpUrl}/metrics`, parsed. */
export async function scrapeMetrics(httpUrl: string): Promise<Map<string, number>> {
  return parseExposition(await (await fetch(`${httpUrl}/metrics`)).text());
}
