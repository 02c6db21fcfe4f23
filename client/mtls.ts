/**
 * A small HTTPS client with a client certificate, for `npm run push`, the demo, the seed and the tests: one
 * connection per request (no agent), so every call makes its own TLS handshake with its own
 * certificate, as separate scanners and dashboards would.
 */
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { connect } from 'node:net';

export interface ClientIdentity {
  certPem: string;
  keyPem: string;
}

export interface CallOptions {
  method?: string;
  path?: string;
  /** A value is sent as JSON; a string or Buffer as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * The User-Agent header, from `userAgent(tool)` (client/user-agent.ts): the deployed WAF blocks a request
   * without one. `null` sends none, for the tests that show that block.
   */
  userAgent: string | null;
  identity?: ClientIdentity;
  /** CA bundle that signed the server's certificate; default: Node's trusted CAs. */
  caPem?: string | undefined;
  /** Extra TLS options (e.g. maxVersion) for tests of the handshake. */
  tls?: Pick<RequestOptions, 'minVersion' | 'maxVersion' | 'ciphers'>;
  timeoutMs?: number;
  /** Send the body with chunked transfer encoding (no Content-Length), in 16 KiB pieces. */
  chunked?: boolean;
}

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): unknown;
}

export function call(baseUrl: string, options: CallOptions): Promise<CallResult> {
  const url = new URL(options.path ?? '/', baseUrl);
  const payload =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string' || Buffer.isBuffer(options.body)
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    ...(options.userAgent === null ? {} : { 'User-Agent': options.userAgent }),
    ...(payload !== undefined && typeof options.body !== 'string' && !Buffer.isBuffer(options.body)
      ? { 'Content-Type': 'application/json' }
      : {}),
    ...(payload === undefined || options.chunked ? {} : { 'Content-Length': String(Buffer.byteLength(payload)) }),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      {
        method: options.method ?? (payload === undefined ? 'GET' : 'POST'),
        headers,
        agent: false,
        ...(options.caPem === undefined ? {} : { ca: options.caPem }),
        ...(options.identity ? { cert: options.identity.certPem, key: options.identity.keyPem } : {}),
        servername: url.hostname === '127.0.0.1' ? 'localhost' : url.hostname,
        timeout: options.timeoutMs ?? 15_000,
        ...options.tls,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body,
            json: () => JSON.parse(body) as unknown,
          });
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`request to ${url.href} timed out`)));
    request.on('error', reject);
    if (options.chunked && payload !== undefined) {
      const bytes = Buffer.from(payload);
      for (let offset = 0; offset < bytes.length; offset += 16_384)
        request.write(bytes.subarray(offset, offset + 16_384));
      request.end();
    } else request.end(payload);
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port (a running stack, for the CLIs). */
export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host, timeout: 1000 });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}
