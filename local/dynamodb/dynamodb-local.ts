/**
 * The official DynamoDB Local (Amazon's jar, shipped inside the npm package
 * `amplify-dynamodb-simulator`; needs Java) as a second opinion on dynalite: with
 * `LOCAL_DYNAMODB=dynamodb-local` the local stack and the integration tests run against it, so
 * nothing passes on dynalite that DynamoDB refuses.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/DynamoDBLocal.UsageNotes.html
 */
import { spawn } from 'node:child_process';
import { Agent, createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { RequestMeter } from './request-meter';
import type { LocalDynamoDb } from './server';

export const DYNAMODB_ENGINE_VARIABLE = 'LOCAL_DYNAMODB';
const STARTUP_LIMIT_MS = 60_000;

function jarPath(): string {
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator', 'DynamoDBLocal.jar');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * The JVM's server cannot be watched from inside, so its clients reach it through a pass-through
 * HTTP proxy that the request meter watches (every byte forwarded as it is).
 */
async function startMeteredProxy(target: number, port: number, meter: RequestMeter): Promise<Server> {
  const agent = new Agent({ keepAlive: true });
  const proxy = createHttpServer((incoming, outgoing) => {
    const forward = httpRequest(
      {
        host: '127.0.0.1',
        port: target,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
        agent,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  meter.watch(proxy);
  proxy.on('close', () => agent.destroy());
  await new Promise<void>((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(port, '127.0.0.1', () => {
      proxy.off('error', reject);
      resolve();
    });
  });
  return proxy;
}

export async function startDynamoDbLocal(options: { port?: number; dataDir?: string } = {}): Promise<LocalDynamoDb> {
  const port = await freePort();
  const jar = jarPath();
  const storage = options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory'];
  const java = spawn(
    'java',
    [
      `-Djava.library.path=${join(dirname(jar), 'DynamoDBLocal_lib')}`,
      '-jar',
      jar,
      '-port',
      String(port),
      '-sharedDb',
      ...storage,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  java.unref();
  const exited = new Promise<number | null>((resolve) => java.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + STARTUP_LIMIT_MS;
  // Bounded: the JVM answers within seconds or start-up fails.
  while (!(await accepts(port))) {
    if (java.exitCode !== null) throw new Error(`DynamoDB Local exited (status ${java.exitCode}); is Java installed?`);
    if (Date.now() > deadline) {
      java.kill();
      throw new Error(`DynamoDB Local did not listen on ${port} within ${STARTUP_LIMIT_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const meter = new RequestMeter();
  let proxy: Server;
  try {
    proxy = await startMeteredProxy(port, options.port ?? 0, meter);
  } catch (error) {
    java.kill();
    throw error;
  }
  const listening = (proxy.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${listening}`,
    port: listening,
    // The JVM's memory is not this stack's to report.
    maxRssBytes: async () => 0,
    requests: async () => meter.reading(),
    close: async () => {
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      });
      java.ref();
      if (java.exitCode === null) java.kill();
      await exited;
    },
  };
}
