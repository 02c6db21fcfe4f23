/** The bench results as a table for the terminal and for docs/performance.md (Markdown). */
import type { BenchResults } from './run';

export function resultRows(results: BenchResults): string[][] {
  const { ingestBatch1: single, ingestBatch100: batch, sustained, cost, read, close, coldStart, memory } = results;
  const perFinding = (item: { requestsPerFinding: number; writeUnitsPerFinding: number }) =>
    `${item.requestsPerFinding} req, ${item.writeUnitsPerFinding} WCU`;
  const rows = [
    ['measure', 'stack', 'raw DynamoDB API', 'ratio'],
    [
      'ingest, batch 1: findings/s',
      String(single.pipeline.findingsPerSecond),
      String(single.raw.findingsPerSecond),
      `ingestRatio ${single.ingestRatio}`,
    ],
    [
      'ingest, batch 1: p50 / p95 / p99 ms',
      `${single.pipeline.p50Ms} / ${single.pipeline.p95Ms} / ${single.pipeline.p99Ms}`,
      `${single.raw.p50Ms} / ${single.raw.p95Ms} / ${single.raw.p99Ms}`,
      `p99Ratio ${single.p99Ratio}`,
    ],
    [
      `ingest, batch ${results.options.batchSize}: findings/s`,
      String(batch.pipeline.findingsPerSecond),
      String(batch.raw.findingsPerSecond),
      `ingestRatio ${batch.ingestRatio}`,
    ],
    [
      `ingest, batch ${results.options.batchSize}: p50 / p95 / p99 ms`,
      `${batch.pipeline.p50Ms} / ${batch.pipeline.p95Ms} / ${batch.pipeline.p99Ms}`,
      `${batch.raw.p50Ms} / ${batch.raw.p95Ms} / ${batch.raw.p99Ms} (one upsert)`,
      `p99Ratio ${batch.p99Ratio}`,
    ],
    [
      `sustained, ${sustained.findings} findings in batches of ${results.options.batchSize}: findings/s`,
      String(sustained.pipeline.findingsPerSecond),
      String(sustained.raw.findingsPerSecond),
      `ingestRatio ${sustained.ingestRatio}`,
    ],
    [
      'sustained: p50 / p95 / p99 ms',
      `${sustained.pipeline.p50Ms} / ${sustained.pipeline.p95Ms} / ${sustained.pipeline.p99Ms}`,
      `${sustained.raw.p50Ms} / ${sustained.raw.p95Ms} / ${sustained.raw.p99Ms} (one upsert)`,
      `p99Ratio ${sustained.p99Ratio}`,
    ],
    [
      'sustained: findings-table requests, write units per finding (ingest-path tables; the stream consumer, async)',
      `${perFinding(sustained.pipelineCost)} (${sustained.pipelineCost.allRequestsPerFinding}; ${sustained.pipelineCost.streamRequestsPerFinding})`,
      `${perFinding(sustained.rawCost)} (${sustained.rawCost.allRequestsPerFinding}; ${sustained.rawCost.streamRequestsPerFinding})`,
      '',
    ],
    ...Object.entries(cost.cases).map(([name, item]) => [
      `per finding, ${name} (batch of ${cost.batchSize}): requests, write / read units`,
      `${item.requestsPerFinding} req (${item.refusalsPerFinding} refused), ${item.writeUnitsPerFinding} WCU, ${item.readUnitsPerFinding} RCU`,
      '',
      '',
    ]),
    [
      `GET page of ${results.options.pageSize}: p50 / p95 / p99 ms`,
      `${read.pipeline.p50Ms} / ${read.pipeline.p95Ms} / ${read.pipeline.p99Ms}`,
      `${read.raw.p50Ms} / ${read.raw.p95Ms} / ${read.raw.p99Ms} (Query)`,
      `p99Ratio ${read.p99Ratio}`,
    ],
    [
      `triage, batch ${results.triage.batchSize}: findings/s`,
      String(results.triage.pipeline.findingsPerSecond),
      `${results.triage.raw.findingsPerSecond} (conditional UpdateItem)`,
      `triageRatio ${results.triage.triageRatio}`,
    ],
    [
      `triage, batch ${results.triage.batchSize}: p50 / p95 / p99 ms`,
      `${results.triage.pipeline.p50Ms} / ${results.triage.pipeline.p95Ms} / ${results.triage.pipeline.p99Ms}`,
      `${results.triage.raw.p50Ms} / ${results.triage.raw.p95Ms} / ${results.triage.raw.p99Ms} (${results.triage.batchSize} UpdateItem)`,
      `p99Ratio ${results.triage.p99Ratio}`,
    ],
    [
      `GET /vuln/summary (${results.summaryRead.findingsCounted} findings counted): p50 / p95 / p99 ms`,
      `${results.summaryRead.pipeline.p50Ms} / ${results.summaryRead.pipeline.p95Ms} / ${results.summaryRead.pipeline.p99Ms}`,
      `${results.summaryRead.raw.p50Ms} / ${results.summaryRead.raw.p95Ms} / ${results.summaryRead.raw.p99Ms} (GetItem summary + SLA policy)`,
      `p99Ratio ${results.summaryRead.p99Ratio}`,
    ],
    [
      `close a run over ${close.findings} findings: findings/s`,
      `${close.pipelineFindingsPerSecond} (${close.closed} closed)`,
      `${close.rawFindingsPerSecond} (conditional UpdateItem)`,
      `closeRatio ${close.closeRatio}`,
    ],
    ...Object.entries(coldStart.functions).map(([name, item]) => [
      `cold start ${name}: init ms, KB`,
      `${item.initMs}, ${Math.round(item.bytes / 1024)}`,
      `${coldStart.baseline.initMs}, ${Math.round(coldStart.baseline.bytes / 1024)} (DynamoDB client only)`,
      `initRatio ${item.initRatio}, sizeRatio ${item.sizeRatio}`,
    ]),
    [
      'peak memory MB (gateway + functions, DynamoDB server)',
      `${memory.peakRssMb} (${memory.gatewayAndFunctionsMb} + ${memory.dynamoDbMb})`,
      '',
      '',
    ],
  ];
  return rows;
}

export function formatTable(rows: string[][], markdown = false): string {
  const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) =>
    markdown ? `| ${row.join(' | ')} |` : row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  const [header, ...body] = rows;
  const separator = markdown
    ? `|${(header ?? []).map(() => '---').join('|')}|`
    : widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(header ?? []), separator, ...body.map(line)].join('\n');
}

export function targetLines(results: BenchResults): string[] {
  return results.targets.map(
    (target) => `${target.met ? 'MET   ' : 'MISSED'}  ${target.name}: ${target.value} (target ${target.target})`,
  );
}
