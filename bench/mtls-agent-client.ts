/**
 * A scanner or dashboard as it would run in production: one kept-alive mTLS connection per client,
 * reused for every request (client/mtls.ts opens one per request, for tests of the handshake).
 */
import { Agent, request } from 'node:https';
import type { ClientIdentity } from '../client/mtls';
import { userAgent } from '../client/user-agent';

export interface BenchClient {
  send(method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; body: string }>;
  close(): void;
}

export function benchClient(baseUrl: string, identity: ClientIdentity, caPem: string): BenchClient {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 1,
    ca: caPem,
    cert: identity.certPem,
    key: identity.keyPem,
    servername: 'localhost',
  });
  const send = (
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    retried = false,
  ): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const outgoing = request(
        new URL(path, baseUrl),
        {
          method,
          agent,
          headers: {
            'User-Agent': userAgent('bench'),
            ...(body === undefined
              ? {}
              : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) }),
          },
          timeout: 60_000,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          response.on('error', reject);
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${path} timed out`)));
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed as idle just as this request went out: sent again once on a new
        // one, as Node's documentation of `request.reusedSocket` advises (every bench request is idempotent).
        if (!retried && outgoing.reusedSocket && error.code === 'ECONNRESET')
          send(method, path, body, true).then(resolve, reject);
        else reject(error);
      });
      outgoing.end(body);
    });
  return { send: (method, path, body) => send(method, path, body), close: () => agent.destroy() };
}
