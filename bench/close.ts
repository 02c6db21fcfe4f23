/**
 * Closing throughput: an org of N OPEN findings of one scanner and asset, a completed run that saw none
 * of them, and the close-run state machine (STANDARD, page by page, each close a conditional
 * UpdateItem) timed until it ends; the baseline is the same N conditional UpdateItems sent straight to
 * the same DynamoDB-API server with the same concurrency, on a second org seeded alike.
 */
import { PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { randomUUID } from 'node:crypto';
import { forEachBounded } from '../functions/shared/core/concurrency';
import { runItem } from '../functions/shared/adapters/run-item';
import { newRun } from '../functions/shared/core/scan-run';
import type { LocalStateMachine } from '../local/stepfunctions/state-machine';
import { ratio } from './stats';
import { benchFinding, seedOrg } from './workload';

export const CLOSE_ORG = 'bench-close';
const RAW_ORG = 'bench-close-raw';
const SCANNER = 'bench';
const SEEN = '2026-01-05T09:00:00.000Z';
const RESCANNED = '2026-01-12T09:00:00.000Z';
/** The close-run function writes ten closes of a page at once; the baseline does the same. */
const CONCURRENCY = 10;

export interface CloseResult {
  findings: number;
  closed: number;
  pipelineFindingsPerSecond: number;
  rawFindingsPerSecond: number;
  closeRatio: number;
}

const perSecond = (count: number, ms: number) => Math.round((count * 1000) / Math.max(ms, 1));

export async function measureClose(
  raw: DynamoDBClient,
  tables: { FindingsTable: string; ScanRunsTable: string },
  closeRun: LocalStateMachine,
  findings: number,
): Promise<CloseResult> {
  // seedOrg's findings all have ids of one length, so one asset: the run covers it.
  const asset = benchFinding('read-000000', CLOSE_ORG).AssetName.toLowerCase();
  const extra = { Scanner: SCANNER, Status: 'OPEN', LastSeen: SEEN };
  await seedOrg(raw, tables.FindingsTable, CLOSE_ORG, findings, extra);
  await seedOrg(raw, tables.FindingsTable, RAW_ORG, findings, extra);

  const run = {
    ...newRun(
      randomUUID(),
      { org: CLOSE_ORG, scanner: SCANNER, scannedAt: RESCANNED, scope: { assets: [asset] } },
      { ou: 'bench', serialNumber: '01' },
      new Date(),
    ),
    state: 'closing' as const,
  };
  await raw.send(new PutItemCommand({ TableName: tables.ScanRunsTable, Item: runItem(run) }));
  const started = performance.now();
  const execution = await closeRun.startExecution(JSON.stringify({ runId: run.runId }));
  await closeRun.settled();
  const pipelineMs = performance.now() - started;
  const described = closeRun.describeExecution(execution.executionArn);
  if (described?.status !== 'SUCCEEDED')
    throw new Error(`the close-run execution ended ${described?.status ?? 'unknown'}: ${described?.cause ?? ''}`);
  const closed = (JSON.parse(described.output ?? '{}') as { page?: { fixed?: number } }).page?.fixed ?? 0;

  const keys = Array.from({ length: findings }, (_, index) => ({
    Org: RAW_ORG,
    VulnID: `read-${String(index).padStart(6, '0')}`,
  }));
  const rawStarted = performance.now();
  await forEachBounded(keys, CONCURRENCY, async (key) => {
    await raw.send(
      new UpdateItemCommand({
        TableName: tables.FindingsTable,
        Key: marshall(key),
        UpdateExpression: 'SET #Status = :fixed, #FixedAt = :at',
        ConditionExpression: '#Status = :open AND #LastSeen < :at',
        ExpressionAttributeNames: { '#Status': 'Status', '#FixedAt': 'FixedAt', '#LastSeen': 'LastSeen' },
        ExpressionAttributeValues: marshall({ ':fixed': 'FIXED', ':open': 'OPEN', ':at': RESCANNED }),
      }),
    );
  });
  const rawMs = performance.now() - rawStarted;
  const pipelineFindingsPerSecond = perSecond(closed, pipelineMs);
  const rawFindingsPerSecond = perSecond(findings, rawMs);
  return {
    findings,
    closed,
    pipelineFindingsPerSecond,
    rawFindingsPerSecond,
    closeRatio: ratio(pipelineFindingsPerSecond, rawFindingsPerSecond),
  };
}
