/**
 * Reading findings the way the API asks: follow `nextToken` until it is absent. A page may hold fewer
 * findings than `limit`, even none, and still carry a token (each page's work is bounded), so a short
 * page never means the end.
 */
import type { CallResult } from './mtls';

/** Every finding `GET /vuln?{query}` answers over all its pages (at most `maxPages`), via `get(path)`. */
export async function readAllFindings(
  get: (path: string) => Promise<CallResult>,
  query: string,
  maxPages = 100,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let token: string | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    const answer = await get(`/vuln?${query}${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`);
    if (answer.status !== 200)
      throw Object.assign(new Error(`GET /vuln answered ${answer.status}`), { status: answer.status });
    const body = answer.json() as { items: Record<string, unknown>[]; nextToken?: string };
    items.push(...body.items);
    token = body.nextToken;
    if (token === undefined) return items;
  }
  throw new Error(`more than ${maxPages} pages`);
}
