/**
 * An HTTP proxy in front of the local DynamoDB server that can answer chosen operations with a
 * DynamoDB throttling error, so tests see how the real code and state machine handle a dependency
 * failing (retries, then 503) without any mock in the product.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultProxy {
  endpoint: string;
  target: string;
  /** DynamoDB operations (e.g. 'UpdateItem') to fail while set. */
  failing: Set<string>;
  /** How many requests each operation received. */
  counts: Map<string, number>;
  close(): Promise<void>;
}

export async function startFaultProxy(): Promise<FaultProxy> {
  const proxy: FaultProxy = { endpoint: '', target: '', failing: new Set(), counts: new Map(), close: async () => undefined };
  const server = createServer((incoming, outgoing) => {
    const operation = String(incoming.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
    proxy.counts.set(operation, (proxy.counts.get(operation) ?? 0) + 1);
    if (proxy.failing.has(operation)) {
      incoming.resume();
      outgoing.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.0' });
      outgoing.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'injected by the test' }));
      return;
    }
    const target = new URL(proxy.target);
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return proxy;
}
