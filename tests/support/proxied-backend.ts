/**
 * The local backend (state machines, functions, DynamoDB-API server) with the functions' DynamoDB calls going
 * through a fault proxy (fault-proxy.ts), the scanner granted POST on `orgs`, and its certificate: what the state
 * machine tests that inject faults start from.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { putGrant } from '../../functions/shared/adapters/authz-admin';
import { startBackend, type LocalBackend } from '../../local/backend';
import { localDynamoDbClient } from '../../local/dynamodb/server';
import { clientCertificate, SCANNER_SUBJECT } from './certificates';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

export interface ProxiedBackend {
  backend: LocalBackend;
  proxy: FaultProxy;
  /** The operator's client, straight to the server (not through the proxy). */
  client: DynamoDBClient;
  scannerPem: string;
  close(): Promise<void>;
}

export async function startProxiedBackend(orgs: string[]): Promise<ProxiedBackend> {
  const proxy = await startFaultProxy();
  const backend = await startBackend({
    dynamoDbPort: 0,
    functionsDynamoDbEndpoint: proxy.endpoint,
    retryIntervalMs: 0,
    environment: { POWERTOOLS_LOG_LEVEL: 'SILENT', GRANT_CACHE_SECONDS: '0', AWS_MAX_ATTEMPTS: '1' },
  });
  proxy.target = backend.dynamoDbEndpoint;
  const client = localDynamoDbClient(backend.dynamoDbEndpoint);
  await putGrant(client, backend.tableNames.AuthzTable, 'scanner', { methods: ['POST'], orgs });
  const scannerPem = (await clientCertificate(SCANNER_SUBJECT)).certPem;
  return {
    backend,
    proxy,
    client,
    scannerPem,
    close: async () => {
      client.destroy();
      await backend.close();
      await proxy.close();
    },
  };
}
