/**
 * `npm start --bind-address`: the DynamoDB, Secrets Manager and Step Functions API servers listen
 * on the address given, and only there (127.0.0.2, another loopback address, stands in for
 * Docker's bridge address so the test never leaves this machine).
 */
import { startBackend, type LocalBackend } from '../../local/backend';
import { isListening } from '../../client/mtls';

let backend: LocalBackend;

beforeAll(async () => {
  backend = await startBackend({
    dynamoDbPort: 0,
    stepFunctionsPort: 0,
    bindAddress: '127.0.0.2',
    environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  });
});
afterAll(async () => {
  await backend?.close();
});

test.each(['dynamoDbEndpoint', 'secretsManagerEndpoint', 'stepFunctionsEndpoint'] as const)(
  '%s listens on the bind address only',
  async (name) => {
    const endpoint = new URL(backend[name] as string);
    expect(endpoint.hostname).toBe('127.0.0.2');
    expect(await isListening(Number(endpoint.port), '127.0.0.2')).toBe(true);
    expect(await isListening(Number(endpoint.port), '127.0.0.1')).toBe(false);
  },
);
