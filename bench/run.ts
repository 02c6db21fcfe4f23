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
import { DEV_SUBJECTS, ensureDevPki } from '../local/pki';
import { startLocalStack } from '../local/stack';
import { localAwsEnvironment } from '../local/aws-local';
import { measureColdStarts, type ColdStartResult } from './cold-start';
import { benchClient, type BenchClient } from './mtls-agent-client';
import { createProgress, type Progress } from './progress';
import { alternate, ratio, runClients, summarize, type LatencySummary, type LoadResult } from './stats';
import { benchFinding, rawQueryPage, rawUpsert, READ_ORG, seededVulnId, seedOrg, TRIAGE_ORG } from './workload';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { forEachBounded, WRITE_CONCURRENCY } from '../functions/shared/core/concurrency';
import { triageUpdateInput } from '../functions/shared/adapters/triage-item';
import type { TriageUpdate } from '../functions/shared/core/triage';
import { measureClose, type CloseResult } from './close';
import { measureSummaryRead, type SummaryReadResult } from './summary-read';
import { caseCost, COST_ORG, measureCost, type CostResult } from './cost';
import { meterDifference, type MeterReading } from '../local/dynamodb/request-meter';
import { DYNAMODB_ENGINE_VARIABLE } from '../local/dynamodb/dynamodb-local';
import { registerIssuer } from '../functions/shared/adapters/authz-admin';
import { parseCertificate } from '../functions/shared/core/identity';
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
  /** Sustained ingestion: findings per client, sent in batches of `batchSize`, one batch after another. */
  sustainedFindings: number;
  /** Sustained ingestion is measured in this many long alternating slices (stack, raw, stack, …). */
  sustainedRounds: number;
  /** POST /vuln/triage of `batchSize` updates per client (each client its own findings). */
  triageRequests: number;
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
  sustainedFindings: 1000,
  sustainedRounds: 2,
  triageRequests: 8,
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

/** DynamoDB work per finding of an ingestion load, from the server's request meter. */
export interface LoadCost {
  /** Findings-table requests per finding. */
  requestsPerFinding: number;
  /** Requests on every table of the ingest path per finding (grants, runs and idempotency records included). */
  allRequestsPerFinding: number;
  /**
   * Requests of the findings stream's consumer per finding written meanwhile, by either side (stream reads, history
   * entries, summary updates): asynchronous work, not on the ingest path, that shares this machine's cores.
   */
  streamRequestsPerFinding: number;
  refusalsPerFinding: number;
  /** Capacity the server reported per finding, plus one unit per refused write (bench/cost.ts). */
  writeUnitsPerFinding: number;
}

export interface SustainedResult extends IngestResult {
  findings: number;
  pipelineCost: LoadCost;
  rawCost: LoadCost;
}

export interface BenchResults {
  generatedAt: string;
  machine: { cpus: number; node: string };
  options: BenchOptions;
  ingestBatch1: IngestResult;
  ingestBatch100: IngestResult;
  sustained: SustainedResult;
  /** Requests and capacity units per finding for each case of the lifecycle, a close and a GET page. */
  cost: CostResult;
  /** Which DynamoDB-API server answered (LOCAL_DYNAMODB). */
  dynamoDbEngine: string;
  read: { pipeline: LatencySummary; raw: LatencySummary; p99Ratio: number };
  /** Triage batches of `batchSize`: the route against the same conditional UpdateItems sent straight, as concurrently. */
  triage: { batchSize: number; pipeline: Throughput; raw: Throughput; triageRatio: number; p99Ratio: number };
  /** GET /vuln/summary of the read org (its summary built by the stream consumer) vs the raw GetItem pair. */
  summaryRead: SummaryReadResult;
  close: CloseResult;
  coldStart: ColdStartResult;
  memory: { peakRssMb: number; gatewayAndFunctionsMb: number; dynamoDbMb: number };
  targets: { name: string; value: number; target: string; met: boolean }[];
}

const throughput = (load: LoadResult, findingsPerOperation: number): Throughput => ({
  ...summarize(load.latencies),
  findingsPerSecond: Math.round((load.latencies.length * findingsPerOperation * 1000) / load.elapsedMs),
});

/** Adds one meter difference into a running total. */
function addInto(total: MeterReading, difference: MeterReading): void {
  for (const [tableName, operations] of Object.entries(difference))
    for (const [operation, tally] of Object.entries(operations)) {
      const into = ((total[tableName] ??= {})[operation] ??= {
        requests: 0,
        conditionalCheckFailed: 0,
        capacityUnits: 0,
      });
      into.requests += tally.requests;
      into.conditionalCheckFailed += tally.conditionalCheckFailed;
      into.capacityUnits += tally.capacityUnits;
    }
}

/** Tables only the findings stream's consumer writes (template.yaml), and every stream (the meter's `<table>/stream`). */
const STREAM_CONSUMER_TABLES = new Set(['FindingHistoryTable', 'OrgSummaryTable']);
const isStreamWork = (table: string) => table.endsWith('/stream') || STREAM_CONSUMER_TABLES.has(table);

function loadCost(reading: MeterReading, findingsTable: string, findings: number): LoadCost {
  const item = caseCost(reading, findingsTable, findings);
  const requests = (stream: boolean) =>
    Object.entries(reading)
      .filter(([table]) => isStreamWork(table) === stream)
      .reduce(
        (sum, [, operations]) => sum + Object.values(operations).reduce((inner, tally) => inner + tally.requests, 0),
        0,
      );
  const per = (count: number) => Math.round((count / Math.max(findings, 1)) * 1000) / 1000;
  return {
    requestsPerFinding: item.requestsPerFinding,
    allRequestsPerFinding: per(requests(false)),
    streamRequestsPerFinding: per(requests(true)),
    refusalsPerFinding: item.refusalsPerFinding,
    writeUnitsPerFinding: item.writeUnitsPerFinding,
  };
}

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
  // Every write, the raw baselines' too, goes to the findings stream, whose consumer (history, org summary) works
  // asynchronously on the same cores: each slice and seed lets it finish, untimed, so one side's backlog does not
  // slow the next slice (docs/performance.md).
  const drain = () => stack.drainStreams();
  const raw = localDynamoDbClient(backend.dynamoDbEndpoint);
  const table = backend.tableNames.FindingsTable;
  const clients: BenchClient[] = [];
  try {
    await putGrant(raw, backend.tableNames.AuthzTable, 'scanner', { methods: ['POST'], orgs: '*' });
    await putGrant(raw, backend.tableNames.AuthzTable, 'dashboard', { methods: ['GET'], orgs: [READ_ORG, COST_ORG] });
    await putGrant(raw, backend.tableNames.AuthzTable, 'triage', { methods: ['TRIAGE'], orgs: [TRIAGE_ORG] });
    // The run opener reads its receipt by CA key (docs/finding-lifecycle.md), as the local seed registers the dev CA.
    await registerIssuer(raw, backend.tableNames.AuthzTable, parseCertificate(pki.ca.certPem));
    const scanners = Array.from({ length: options.clients }, () => benchClient(stack.url, pki.scanner, pki.ca.certPem));
    const dashboards = Array.from({ length: options.clients }, () =>
      benchClient(stack.url, pki.dashboard, pki.ca.certPem),
    );
    const triagers = Array.from({ length: options.clients }, () => benchClient(stack.url, pki.triager, pki.ca.certPem));
    clients.push(...scanners, ...dashboards, ...triagers);

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
      const [pipelineLoad, rawLoad] = await alternate(
        options.rounds,
        perClient,
        [
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
        ],
        drain,
      );
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

    // Sustained: every client pushes its whole export, batch after batch; the raw baseline upserts as many
    // new findings; each side's DynamoDB requests are counted around its slices.
    const batches = Math.max(1, Math.ceil(options.sustainedFindings / options.batchSize));
    const meterTotals: [MeterReading, MeterReading] = [{}, {}];
    const counted =
      (side: 0 | 1, load: (start: number, count: number) => Promise<LoadResult>) =>
      async (start: number, count: number) => {
        const before = await backend.dynamoDbRequests();
        const result = await load(start, count);
        addInto(meterTotals[side], meterDifference(before, await backend.dynamoDbRequests()));
        return result;
      };
    const sustainedId = (side: string, client: number, batch: number, item: number) =>
      `sustained-${side}-${client}-${batch}-${item}`;
    progress.phase(
      `sustained: ${options.clients} clients x ${batches * options.batchSize} findings in batches of ${options.batchSize} (stack and raw UpdateItem, ${options.sustainedRounds} slices each)`,
      options.clients * batches * (1 + options.batchSize),
    );
    const [sustainedLoad, sustainedRawLoad] = await alternate(
      options.sustainedRounds,
      batches,
      [
        counted(0, (start, count) =>
          runClients(
            options.clients,
            count,
            (client, round) =>
              post(scanners[client] as BenchClient, {
                findings: Array.from({ length: options.batchSize }, (_, item) =>
                  benchFinding(sustainedId('stack', client, start + round, item)),
                ),
              }),
            tick,
          ),
        ),
        counted(1, (start, count) =>
          runClients(
            options.clients,
            count * options.batchSize,
            (client, index) =>
              rawUpsert(
                raw,
                table,
                benchFinding(
                  sustainedId('raw', client, start + Math.floor(index / options.batchSize), index % options.batchSize),
                ),
              ),
            tick,
          ),
        ),
      ],
      drain,
    );
    const sustainedFindings = options.clients * batches * options.batchSize;
    const sustainedPipeline = throughput(sustainedLoad as LoadResult, options.batchSize);
    const sustainedRaw = throughput(sustainedRawLoad as LoadResult, 1);
    const sustained: SustainedResult = {
      findings: sustainedFindings,
      pipeline: sustainedPipeline,
      raw: sustainedRaw,
      ingestRatio: ratio(sustainedPipeline.findingsPerSecond, sustainedRaw.findingsPerSecond),
      p99Ratio: ratio(sustainedPipeline.p99Ms, sustainedRaw.p99Ms),
      pipelineCost: loadCost(meterTotals[0], table, sustainedFindings),
      rawCost: loadCost(meterTotals[1], table, sustainedFindings),
    };
    progress.done(
      `stack ${sustainedPipeline.findingsPerSecond} findings/s (${sustained.pipelineCost.requestsPerFinding} requests/finding); raw ${sustainedRaw.findingsPerSecond} findings/s`,
    );

    progress.phase(`DynamoDB work per finding: each lifecycle case on a batch of ${options.batchSize}`, 1);
    const cost = await measureCost({
      scanner: scanners[0] as BenchClient,
      dashboard: dashboards[0] as BenchClient,
      findingsTable: table,
      requests: () => backend.dynamoDbRequests(),
      batchSize: options.batchSize,
    });
    progress.done(
      Object.entries(cost.cases)
        .map(([name, item]) => `${name} ${item.requestsPerFinding}`)
        .join(', '),
    );
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
    const [readLoad, readRawLoad] = await alternate(
      options.rounds,
      options.readPages,
      [
        (_, count) => runClients(options.clients, count, get, tick),
        (_, count) => runClients(options.clients, count, query, tick),
      ],
      drain,
    );
    const readPipeline = summarize((readLoad as LoadResult).latencies);
    const readRaw = summarize((readRawLoad as LoadResult).latencies);
    progress.done(`stack p99 ${readPipeline.p99Ms} ms; raw p99 ${readRaw.p99Ms} ms`);

    // Triage: each client triages its own `batchSize` findings, one POST /vuln/triage per batch; the raw side sends
    // the same conditional UpdateItems (functions/shared/adapters/triage-repository.ts) straight to the server,
    // WRITE_CONCURRENCY at a time as the triage function does, one batch after another.
    progress.phase(`seed ${options.clients * options.batchSize} findings in ${TRIAGE_ORG}`, 1);
    await seedOrg(raw, table, TRIAGE_ORG, options.clients * options.batchSize);
    progress.done('done');
    const triageUpdates = (client: number, round: number): TriageUpdate[] =>
      Array.from({ length: options.batchSize }, (_, item) => ({
        vulnId: seededVulnId(client * options.batchSize + item),
        workflow: round % 2 === 0 ? 'ACKNOWLEDGED' : 'NEW',
        note: `bench round ${round}`,
        justification: undefined,
        acceptedUntil: undefined,
        expectedVersion: undefined,
      }));
    const triage = async (client: number, round: number) => {
      const updates = triageUpdates(client, round).map(({ vulnId, workflow, note }) => ({ vulnId, workflow, note }));
      const answer = await (triagers[client] as BenchClient).send(
        'POST',
        '/vuln/triage',
        JSON.stringify({ org: TRIAGE_ORG, updates }),
      );
      const unprocessed =
        answer.status === 200 ? (JSON.parse(answer.body) as { unprocessed: unknown[] }).unprocessed : [];
      if (answer.status !== 200 || unprocessed.length > 0)
        throw new Error(`POST /vuln/triage answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    };
    const rawActor = { subject: DEV_SUBJECTS.triager, serialNumber: pki.triager.serialNumber, requestId: 'bench-raw' };
    const rawTriage = async (client: number, round: number) => {
      await forEachBounded(triageUpdates(client, round), WRITE_CONCURRENCY, async (update) => {
        await raw.send(new UpdateItemCommand(triageUpdateInput(table, TRIAGE_ORG, update, rawActor, new Date())));
      });
    };
    // Warm-up: the triage function's environments exist before anything is timed.
    await runClients(options.clients, 1, (client) => triage(client, 1));
    progress.phase(
      `triage batch ${options.batchSize} (stack and raw conditional UpdateItem, alternating)`,
      options.clients * options.triageRequests * 2,
    );
    const [triageLoad, triageRawLoad] = await alternate(
      options.rounds,
      options.triageRequests,
      [
        (start, count) => runClients(options.clients, count, (client, round) => triage(client, start + round), tick),
        (start, count) => runClients(options.clients, count, (client, round) => rawTriage(client, start + round), tick),
      ],
      drain,
    );
    const triagePipeline = throughput(triageLoad as LoadResult, options.batchSize);
    const triageRaw = throughput(triageRawLoad as LoadResult, options.batchSize);
    const triageResult = {
      batchSize: options.batchSize,
      pipeline: triagePipeline,
      raw: triageRaw,
      triageRatio: ratio(triagePipeline.findingsPerSecond, triageRaw.findingsPerSecond),
      p99Ratio: ratio(triagePipeline.p99Ms, triageRaw.p99Ms),
    };
    progress.done(
      `stack ${triagePipeline.findingsPerSecond} findings/s, p99 ${triagePipeline.p99Ms} ms; raw ${triageRaw.findingsPerSecond} findings/s, p99 ${triageRaw.p99Ms} ms`,
    );

    // The seeded findings reached the org summary through the findings table's stream and its consumer.
    progress.phase(
      `GET /vuln/summary of ${READ_ORG} (stack and raw GetItem of the summary and the SLA policy, alternating)`,
      options.clients * options.readPages * 2,
    );
    await stack.drainStreams();
    const summaryRead = await measureSummaryRead({
      dashboards,
      raw,
      tables: { summary: backend.tableNames.OrgSummaryTable as string, authz: backend.tableNames.AuthzTable },
      org: READ_ORG,
      clients: options.clients,
      reads: options.readPages,
      rounds: options.rounds,
      tick,
    });
    progress.done(`stack p99 ${summaryRead.pipeline.p99Ms} ms; raw p99 ${summaryRead.raw.p99Ms} ms`);

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
        name: `ingestRatio, sustained (${options.clients} clients x ${batches * options.batchSize} findings, batch ${options.batchSize}) vs raw`,
        value: sustained.ingestRatio,
        target: '>= 0.6',
        met: sustained.ingestRatio >= 0.6,
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
      sustained,
      cost,
      dynamoDbEngine: process.env[DYNAMODB_ENGINE_VARIABLE] ?? 'dynalite',
      read,
      triage: triageResult,
      summaryRead,
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
