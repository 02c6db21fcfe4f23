/**
 * The trace page of `npm start`: plain HTML, CSS and a small script served by node:http on loopback only,
 * and two JSON endpoints the script reads (recent requests with annotation filters; one trace's waterfall).
 * Trace data never reaches the page as HTML (the script sets textContent), the Content-Security-Policy
 * allows only this origin's own script and style, and a Host other than the loopback address is refused
 * (a DNS-rebinding page cannot read traces).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TraceStore } from './store';
import { TRACE_ID_PATTERN } from './trace-header';
import { recentTraces, summarize, SUMMARY_ANNOTATIONS, waterfall } from './waterfall';

export const DEFAULT_TRACES_PORT = 3000;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1']);
const MAX_LAST = 200;

const ASSETS: Record<string, { file: string; type: string }> = {
  '/traces': { file: 'traces.html', type: 'text/html; charset=utf-8' },
  '/traces/traces.js': { file: 'traces.js', type: 'text/javascript; charset=utf-8' },
  '/traces/traces.css': { file: 'traces.css', type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

export interface TraceViewer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function reply(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

const json = (response: ServerResponse, status: number, value: unknown) =>
  reply(response, status, 'application/json; charset=utf-8', JSON.stringify(value));

/** Filters from the query: only the summary annotations, bounded. */
function filtersOf(url: URL): Record<string, string> {
  const filters: Record<string, string> = {};
  for (const key of SUMMARY_ANNOTATIONS) {
    const value = url.searchParams.get(key)?.trim();
    if (value) filters[key] = value.slice(0, 100);
  }
  return filters;
}

export async function startTraceViewer(
  store: TraceStore,
  options: { port?: number; host?: string } = {},
): Promise<TraceViewer> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.has(host)) throw new Error(`The trace page serves loopback only, not ${host}`);
  const assets = Object.fromEntries(
    Object.entries(ASSETS).map(([path, asset]) => [
      path,
      { type: asset.type, body: readFileSync(join(__dirname, 'viewer', asset.file)) },
    ]),
  );
  let allowedHosts = new Set<string>();

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    if (!allowedHosts.has(String(request.headers.host))) return json(response, 403, { message: 'Forbidden' });
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return json(response, 405, { message: 'Method Not Allowed' });
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const asset = assets[url.pathname];
    if (asset) return reply(response, 200, asset.type, asset.body);
    if (url.pathname === '/traces/api/traces') {
      const last = Math.min(MAX_LAST, Math.max(1, Number.parseInt(url.searchParams.get('last') ?? '50', 10) || 50));
      return json(response, 200, {
        traces: recentTraces(store.all(), { last, filters: filtersOf(url) }).map(summarize),
      });
    }
    const match = /^\/traces\/api\/traces\/([^/]+)$/.exec(url.pathname);
    if (match && TRACE_ID_PATTERN.test(match[1] ?? '')) {
      const trace = store.get(match[1] as string);
      if (trace) return json(response, 200, { summary: summarize(trace), rows: waterfall(trace) });
    }
    return json(response, 404, { message: 'Not Found' });
  };

  const server = createServer((request, response) => {
    try {
      handle(request, response);
    } catch {
      if (!response.headersSent) json(response, 500, { message: 'Internal error' });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_TRACES_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  return {
    url: `http://127.0.0.1:${port}/traces`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
