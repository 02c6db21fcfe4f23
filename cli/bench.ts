/**
 * `npm run bench`: latency and memory of the ingestion workflow and the GET function on the local
 * stack (real ASL interpreter, real handlers, real DynamoDB-API server), against stated targets.
 * Timing lives here, never in unit tests. Exit code 1 when a target is missed.
 */
import { performance } from 'node:perf_hooks';
import { startBackend } from '../local/backend';
import { localDynamoDbClient } from '../local/dynamodb/server';
import { putGrant } from '../functions/shared/adapters/authz-admin';
import { createCertificateAuthority } from '../local/pki';

const TARGETS = { singlePostP95Ms: 60, batchPostP95Ms: 600, getP95Ms: 40, rssMb: 512 };
const ROUNDS = { single: 200, batch: 20, get: 200 };

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

const finding = (i: number, org = 'org1') => ({
  VulnID: `bench-${i}`,
  Org: org,
  AssetName: `host-${i % 50}.example.com`,
  DueDate: '2025-01-31',
  PluginId: 10000 + i,
  PluginName: 'Benchmark plugin with a realistic length of name text',
  Priority: ['P1', 'P2', 'P3', 'P4', 'P5'][i % 5] as string,
});

async function main() {
  const backend = await startBackend({ dynamoDbPort: 0, environment: { POWERTOOLS_LOG_LEVEL: 'ERROR', GRANT_CACHE_SECONDS: '30' } });
  const client = localDynamoDbClient(backend.dynamoDbEndpoint);
  const ca = await createCertificateAuthority('CN=Bench CA, O=Example Corp');
  const scanner = await ca.issue({ subject: 'CN=bench, OU=scanner, O=Example Corp', kind: 'client' });
  await putGrant(client, backend.tableNames.AuthzTable, 'scanner', { methods: ['GET', 'POST'], orgs: '*' });

  const run = async (body: unknown, requestId: string) => {
    const started = performance.now();
    const result = await backend.stateMachine.startSyncExecution(JSON.stringify({ body, requestId, sourceIp: '127.0.0.1', principal: { certPem: scanner.certPem } }));
    const status = (JSON.parse(result.output ?? '{}') as { statusCode?: number }).statusCode;
    if (status !== 200) throw new Error(`bench request ${requestId} answered ${status}`);
    return performance.now() - started;
  };

  const single: number[] = [];
  for (let i = 0; i < ROUNDS.single; i += 1) single.push(await run(finding(i), `single-${i}`));
  const batch: number[] = [];
  for (let i = 0; i < ROUNDS.batch; i += 1) batch.push(await run({ findings: Array.from({ length: 100 }, (_, j) => finding(1000 + i * 100 + j)) }, `batch-${i}`));
  const get: number[] = [];
  for (let i = 0; i < ROUNDS.get; i += 1) {
    const started = performance.now();
    await backend.functions.invoke('GetFindingsFunction', {
      queryStringParameters: { org: 'org1', limit: '50' },
      multiValueQueryStringParameters: { org: ['org1'], limit: ['50'] },
      requestContext: { requestId: `get-${i}`, identity: { sourceIp: '127.0.0.1', clientCert: { clientCertPem: scanner.certPem } } },
    });
    get.push(performance.now() - started);
  }
  const rssMb = process.memoryUsage().rss / 1024 / 1024;
  client.destroy();
  await backend.close();

  const rows = [
    { name: 'POST one finding (p95 ms)', value: percentile(single, 95), target: TARGETS.singlePostP95Ms },
    { name: 'POST 100 findings (p95 ms)', value: percentile(batch, 95), target: TARGETS.batchPostP95Ms },
    { name: 'GET 50 findings (p95 ms)', value: percentile(get, 95), target: TARGETS.getP95Ms },
    { name: 'resident memory (MB)', value: rssMb, target: TARGETS.rssMb },
  ];
  let missed = 0;
  for (const row of rows) {
    const ok = row.value <= row.target;
    if (!ok) missed += 1;
    console.log(`${ok ? 'PASS' : 'FAIL'}  ${row.name.padEnd(28)} ${row.value.toFixed(1).padStart(8)}  (target ≤ ${row.target})`);
  }
  console.log(`p50: POST one ${percentile(single, 50).toFixed(1)} ms, POST 100 ${percentile(batch, 50).toFixed(1)} ms, GET ${percentile(get, 50).toFixed(1)} ms`);
  process.exitCode = missed > 0 ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
