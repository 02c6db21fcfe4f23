/**
 * The summary read (issue 13): GET /vuln/summary of an org over mutual TLS, beside its raw DynamoDB baseline in the
 * same run: the two reads the function makes, a GetItem of the org's summary item and a GetItem of its SLA policy
 * item (`SLA#<org>` in the authz table), issued together as the handler issues them. The org's summary is built
 * first by the real consumer of the findings table's stream (the seeded findings, drained), so the stack reads a
 * summary item of the org's real size.
 */
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { AUTHZ_KEY_ATTRIBUTE } from '../functions/shared/core/authz-table';
import { slaKey } from '../functions/shared/core/authz-table';
import type { BenchClient } from './mtls-agent-client';
import { alternate, ratio, runClients, summarize, type LatencySummary, type LoadResult } from './stats';

export interface SummaryReadResult {
  org: string;
  /** Findings the summary counts (its counts summed), as the stream consumer left them. */
  findingsCounted: number;
  pipeline: LatencySummary;
  raw: LatencySummary;
  p50Ratio: number;
  p99Ratio: number;
}

export interface SummaryReadSetup {
  dashboards: BenchClient[];
  raw: DynamoDBClient;
  tables: { summary: string; authz: string };
  org: string;
  clients: number;
  /** Reads per client, measured in `rounds` alternating slices with the baseline. */
  reads: number;
  rounds: number;
  tick: () => void;
}

const countsTotal = (body: { counts?: Record<string, Record<string, Record<string, number>>> }) =>
  Object.values(body.counts ?? {})
    .flatMap((bySeverity) => Object.values(bySeverity).flatMap((byWorkflow) => Object.values(byWorkflow)))
    .reduce((sum, count) => sum + count, 0);

export async function measureSummaryRead(setup: SummaryReadSetup): Promise<SummaryReadResult> {
  const { dashboards, raw, tables, org } = setup;
  let findingsCounted = 0;
  const get = async (client: number) => {
    const answer = await (dashboards[client] as BenchClient).send('GET', `/vuln/summary?org=${org}`);
    if (answer.status !== 200)
      throw new Error(`GET /vuln/summary answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    return answer.body;
  };
  const rawRead = async () => {
    await Promise.all([
      raw.send(new GetItemCommand({ TableName: tables.summary, Key: marshall({ Org: org }) })),
      raw.send(new GetItemCommand({ TableName: tables.authz, Key: marshall({ [AUTHZ_KEY_ATTRIBUTE]: slaKey(org) }) })),
    ]);
  };
  // Warm-up: the function's environments exist before anything is timed; what the summary counts, read once (no read
  // changes it).
  await runClients(setup.clients, 1, async (client) => {
    findingsCounted = countsTotal(JSON.parse(await get(client)) as Parameters<typeof countsTotal>[0]);
  });
  const [pipelineLoad, rawLoad] = await alternate(setup.rounds, setup.reads, [
    (_, count) =>
      runClients(
        setup.clients,
        count,
        async (client) => {
          await get(client);
        },
        setup.tick,
      ),
    (_, count) => runClients(setup.clients, count, rawRead, setup.tick),
  ]);
  const pipeline = summarize((pipelineLoad as LoadResult).latencies);
  const rawSummary = summarize((rawLoad as LoadResult).latencies);
  return {
    org,
    findingsCounted,
    pipeline,
    raw: rawSummary,
    p50Ratio: ratio(pipeline.p50Ms, rawSummary.p50Ms),
    p99Ratio: ratio(pipeline.p99Ms, rawSummary.p99Ms),
  };
}
