/**
 * `npm run bench`: the full local stack (mTLS gateway, state machine, functions in their execution
 * environments, DynamoDB-API server in its own process) under concurrent clients, every figure next
 * to its raw baseline measured in the same run against the same DynamoDB-API server, and each pair
 * as a ratio (keys containing `Ratio`). A benchmark, never a timed test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { putGrant } from '../functions/shared/adapters/authz-admin';
import { localDynamoDbClient } from '../local/dynamodb/server';
import { ensureDevPki } from '../local/pki';
import { startLocalStack } from '../local/stack';
import { localAwsEnvironment } from '../local/aws-local';
import { measureColdStarts, type ColdStartResult } from './cold-start';
import { benchClient, type BenchClient } from './mtls-agent-client';
import { createProgress, type Progress } from './progress';
import { alternate, ratio, runClients, summarize, type LatencySummary, type LoadResult } from './stats';
import { benchFinding, rawQueryPage, rawUpsert, READ_ORG, seedOrg } from './workload';
import { measureClose, type CloseResult } from './close';
import type { LocalStateMachine } from '../local/stepfunctions/state-machine';

export interface BenchOptions {
  clients: number;
  /** POSTs of one finding per client. */
  singleRequests: number;
  /** POSTs of `batchSize` findings per client. */
  batchRequests: number;
  batchSize: number;
  /** Findings stored in the org the GET phase reads. */
  readFindings: number;
  pageSize: number;
  /** GET pages per client. */
  readPages: number;
  coldStartRuns: number;
  /** Findings of the org a completed run closes (closing throughput). */
  closeFindings: number;
  /** Each stack figure and its raw baseline are measured in this many alternating slices. */
  rounds: number;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  clients: 16,
  singleRequests: 80,
  batchRequests: 8,
  batchSize: 100,
  readFindings: 10_000,
  pageSize: 100,
  readPages: 40,
  coldStartRuns: 5,
  rounds: 4,
  closeFindings: 10_000,
};

export interface Throughput extends LatencySummary {
  findingsPerSecond: number;
}

export interface IngestResult {
  pipeline: Throughput;
  raw: Throughput;
  ingestRatio: number;
  p99Ratio: number;
}

export interface BenchResults {
  generatedAt: string;
  machine: { cpus: number; node: string };
  options: BenchOptions;
  ingestBatch1: IngestResult;
  ingestBatch100: IngestResult;
  read: { pipeline: LatencySummary; raw: LatencySummary; p99Ratio: number };
  close: CloseResult;
  coldStart: ColdStartResult;
  memory: { peakRssMb: number; gatewayAndFunctionsMb: number; dynamoDbMb: number };
  targets: { name: string; value: number; target: string; met: boolean }[];
}

const throughput = (load: LoadResult, findingsPerOperation: number): Throughput => ({
  ...summarize(load.latencies),
  findingsPerSecond: Math.round((load.latencies.length * findingsPerOperation * 1000) / load.elapsedMs),
});

const mb = (bytes: number) => Math.round(bytes / 1024 / 102.4) / 10;

export interface BenchRunSettings {
  /** Execution environments and the DynamoDB-API server write V8 CPU profiles here. */
  cpuProfileDir?: string;
}

export async function runBench(
  options: BenchOptions,
  progress: Progress = createProgress(),
  settings: BenchRunSettings = {},
): Promise<BenchResults> {
  const directory = await mkdtemp(join(tmpdir(), 'vuln-api-bench-'));
  const pki = await ensureDevPki(join(directory, 'pki'));
  const stack = await startLocalStack({
    backend: {
      dynamoDbPort: 0,
      ...(settings.cpuProfileDir ? { cpuProfileDir: settings.cpuProfileDir } : {}),
      // Logs at ERROR: the bench measures the work, not a terminal scrolling INFO lines. Every client is one address,
      // which the WAF's per-IP rate rule would stop at WafRateLimitPerIp (1,000 in 5 minutes): a limit it never reaches.
      parameterOverrides: {
        ThrottlingRateLimit: '100000',
        ThrottlingBurstLimit: '100000',
        WafRateLimitPerIp: '2000000000',
        LogLevel: 'ERROR',
      },
    },
    gateway: {
      tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem },
      truststorePem: pki.ca.certPem,
      port: 0,
      log: () => undefined,
    },
  });
  const { backend } = stack;
  const raw = localDynamoDbClient(backend.dynamoDbEndpoint);
  const table = backend.tableNames.FindingsTable;
  const clients: BenchClient[] = [];
  try {
    await putGrant(raw, backend.tableNames.AuthzTable, 'scanner', { methods: ['POST'], orgs: '*' });
    await putGrant(raw, backend.tableNames.AuthzTable, 'dashboard', { methods: ['GET'], orgs: [READ_ORG] });
    const scanners = Array.from({ length: options.clients }, () => benchClient(stack.url, pki.scanner, pki.ca.certPem));
    const dashboards = Array.from({ length: options.clients }, () =>
      benchClient(stack.url, pki.dashboard, pki.ca.certPem),
    );
    clients.push(...scanners, ...dashboards);

    const post = async (client: BenchClient, body: unknown) => {
      const answer = await client.send('POST', '/vuln', JSON.stringify(body));
      if (answer.status !== 200) throw new Error(`POST /vuln answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    };
    const tick = () => progress.tick();
    // Warm-up: every client once, so each function has its environments before anything is timed.
    await runClients(options.clients, 1, (client, round) =>
      post(scanners[client] as BenchClient, benchFinding(`warm-${client}-${round}`)),
    );

    const ingest = async (label: string, perClient: number, size: number): Promise<IngestResult> => {
      const id = (client: number, round: number, item: number) => `${label}-${client}-${round}-${item}`;
      const body = (client: number, round: number) =>
        size === 1
          ? benchFinding(id(client, round, 0))
          : { findings: Array.from({ length: size }, (_, item) => benchFinding(id(client, round, item))) };
      progress.phase(
        `ingest batch ${size} (stack and raw UpdateItem, alternating)`,
        options.clients * perClient * (1 + size),
      );
      const [pipelineLoad, rawLoad] = await alternate(options.rounds, perClient, [
        (start, count) =>
          runClients(
            options.clients,
            count,
            (client, round) => post(scanners[client] as BenchClient, body(client, start + round)),
            tick,
          ),
        // The same findings, upserted again one UpdateItem each: the same work the write function did.
        (start, count) =>
          runClients(
            options.clients,
            count * size,
            (client, index) =>
              rawUpsert(raw, table, benchFinding(id(client, start + Math.floor(index / size), index % size))),
            tick,
          ),
      ]);
      const pipeline = throughput(pipelineLoad as LoadResult, size);
      const rawResult = throughput(rawLoad as LoadResult, 1);
      progress.done(
        `stack ${pipeline.findingsPerSecond} findings/s, p99 ${pipeline.p99Ms} ms; raw ${rawResult.findingsPerSecond} findings/s, p99 ${rawResult.p99Ms} ms`,
      );
      return {
        pipeline,
        raw: rawResult,
        ingestRatio: ratio(pipeline.findingsPerSecond, rawResult.findingsPerSecond),
        p99Ratio: ratio(pipeline.p99Ms, rawResult.p99Ms),
      };
    };
    const ingestBatch1 = await ingest('single', options.singleRequests, 1);
    const ingestBatch100 = await ingest('batch', options.batchRequests, options.batchSize);
    const memory = {
      gatewayAndFunctionsMb: mb(process.resourceUsage().maxRSS * 1024),
      dynamoDbMb: mb(await backend.dynamoDbMaxRssBytes()),
    };

    progress.phase(`seed ${options.readFindings} findings in ${READ_ORG}`, 1);
    await seedOrg(raw, table, READ_ORG, options.readFindings);
    progress.done('done');
    const cursors: (string | undefined)[] = Array.from({ length: options.clients }, () => undefined);
    const get = async (client: number) => {
      const token = cursors[client];
      const answer = await (dashboards[client] as BenchClient).send(
        'GET',
        `/vuln?org=${READ_ORG}&limit=${options.pageSize}${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`,
      );
      if (answer.status !== 200) throw new Error(`GET /vuln answered ${answer.status}: ${answer.body.slice(0, 200)}`);
      cursors[client] = (JSON.parse(answer.body) as { nextToken?: string }).nextToken;
    };
    await runClients(options.clients, 1, get);
    const keys: (Awaited<ReturnType<typeof rawQueryPage>> | undefined)[] = Array.from(
      { length: options.clients },
      () => undefined,
    );
    const query = async (client: number) => {
      keys[client] = await rawQueryPage(raw, table, READ_ORG, options.pageSize, keys[client]);
    };
    progress.phase(
      `GET pages of ${options.pageSize} (stack and raw Query, alternating)`,
      options.clients * options.readPages * 2,
    );
    const [readLoad, readRawLoad] = await alternate(options.rounds, options.readPages, [
      (_, count) => runClients(options.clients, count, get, tick),
      (_, count) => runClients(options.clients, count, query, tick),
    ]);
    const readPipeline = summarize((readLoad as LoadResult).latencies);
    const readRaw = summarize((readRawLoad as LoadResult).latencies);
    progress.done(`stack p99 ${readPipeline.p99Ms} ms; raw p99 ${readRaw.p99Ms} ms`);

    progress.phase(`close a run over ${options.closeFindings} findings (stack, then raw UpdateItem)`, 1);
    const close = await measureClose(
      raw,
      { FindingsTable: table, ScanRunsTable: backend.tableNames.ScanRunsTable as string },
      backend.stateMachines.CloseRunStateMachine as LocalStateMachine,
      options.closeFindings,
    );
    progress.done(`${close.pipelineFindingsPerSecond} closed/s vs ${close.rawFindingsPerSecond} raw/s`);

    progress.phase('cold start per function', backend.functions.definitions.length + 1);
    const coldStart = await measureColdStarts(
      backend.functions.definitions,
      localAwsEnvironment(backend.dynamoDbEndpoint),
      join(directory, 'bundles'),
      options.coldStartRuns,
    );
    progress.done(`baseline ${coldStart.baseline.initMs} ms`);

    const read = { pipeline: readPipeline, raw: readRaw, p99Ratio: ratio(readPipeline.p99Ms, readRaw.p99Ms) };
    const worstColdStart = Math.max(...Object.values(coldStart.functions).map((item) => item.initRatio));
    const targets = [
      {
        name: 'ingestRatio, batch 100 (findings/s vs raw)',
        value: ingestBatch100.ingestRatio,
        target: '>= 0.6',
        met: ingestBatch100.ingestRatio >= 0.6,
      },
      {
        name: 'p99Ratio, POST of one finding vs raw upsert',
        value: ingestBatch1.p99Ratio,
        target: '<= 2',
        met: ingestBatch1.p99Ratio <= 2,
      },
      { name: 'p99Ratio, GET page vs raw Query', value: read.p99Ratio, target: '<= 1.5', met: read.p99Ratio <= 1.5 },
      {
        name: 'initRatio, slowest function vs DynamoDB-client-only bundle',
        value: worstColdStart,
        target: '<= 1.5',
        met: worstColdStart <= 1.5,
      },
    ];
    return {
      generatedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      options,
      ingestBatch1,
      ingestBatch100,
      read,
      close,
      coldStart,
      memory: { peakRssMb: Math.round((memory.gatewayAndFunctionsMb + memory.dynamoDbMb) * 10) / 10, ...memory },
      targets,
    };
  } finally {
    for (const client of clients) client.close();
    raw.destroy();
    await stack.close();
    await rm(directory, { recursive: true, force: true });
  }
}
