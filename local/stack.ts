/**
 * The whole local stack in one call: backend (DynamoDB-API server, functions, state machine,
 * optional Step Functions API) and the mTLS gateway in front of it. `npm start`, `npm run demo`
 * (when no stack is running) and the integration tests all start it this way.
 */
import { startBackend, type BackendOptions, type LocalBackend } from './backend';
import { localDynamoDbClient } from './dynamodb/server';
import { startGateway, type Gateway, type GatewayOptions } from './gateway/server';
import { seedDemoData, type SeedResult } from './seed';
import type { ClientIdentity } from '../client/mtls';

export interface LocalStackOptions {
  backend?: BackendOptions;
  gateway: Omit<GatewayOptions, 'backend'>;
  /** Seed demo grants and findings into empty tables, posting the findings with this client. */
  seed?: { scanner: ClientIdentity; caPem: string };
}

export interface LocalStack {
  backend: LocalBackend;
  gateway: Gateway;
  url: string;
  seeded: SeedResult | undefined;
  /** Resolves once every event source mapping has delivered (or sent on failure) every stream record written before the call. */
  drainStreams(): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const backend = await startBackend(options.backend);
  let gateway: Gateway | undefined;
  try {
    gateway = await startGateway({ ...options.gateway, backend });
    let seeded: SeedResult | undefined;
    if (options.seed) {
      const client = localDynamoDbClient(backend.dynamoDbEndpoint);
      try {
        seeded = await seedDemoData({
          client,
          tables: backend.tableNames,
          gatewayUrl: gateway.url,
          caPem: options.seed.caPem,
          scanner: options.seed.scanner,
        });
      } finally {
        client.destroy();
      }
    }
    const started = gateway;
    return {
      backend,
      gateway: started,
      url: started.url,
      seeded,
      drainStreams: () => backend.drainStreams(),
      close: async () => {
        await started.close();
        await backend.close();
      },
    };
  } catch (error) {
    await gateway?.close();
    await backend.close();
    throw error;
  }
}
