/**
 * `npm run push -- --url https://host[:port] --cert client.crt --key client.key [--cacert ca.pem]
 *   --org ORG [--format NAME] [--scanner NAME] [--scanned-at ISO] [--no-complete] [--batch 100] [--concurrency 4]
 *   [--max-bytes N] [--due-days critical=15,…] [--dry-run] FILE...|-`
 *
 * The entry point only: arguments, progress and exit code. Reading, mapping, batching, sending and
 * the scan run live in client/ (docs/scan-import.md, docs/finding-lifecycle.md). Every push is a scan
 * run: opened, sent, completed only if every batch was accepted, waited for, and its receipt printed.
 * Exit 0 when every finding was stored (and the run closed, unless --no-complete), 1 when any was
 * rejected or failed (the run is left open: nothing closes), 2 for a usage error or a file that is not
 * a scan export, 3–8 for a file refused as malformed, truncated, with a DTD, nested too deep, with a
 * record over the request limit or not UTF-8 (REFUSAL_EXIT_CODES; then nothing is sent and no run is opened).
 */
import { loadStackTemplate } from '../local/cloudformation/nested-stacks';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { MAX_BODY_BYTES, MAX_FINDINGS_PER_REQUEST } from '../functions/shared/core/limits';
import type { BatchReport, FindingProblem } from '../client/push/sender';
import {
  planScanFiles,
  pushSucceeded,
  ScanFileError,
  withRunScanner,
  type FileCheck,
  type PushProgress,
} from '../client/push/push';
import { formatNamed, SCAN_FORMAT_READERS } from '../client/scan/formats';
import { exitCodeOf, type ScanFormat } from '../client/scan/records';
import { pushScanRun } from '../client/push/push-run';
import { DEFAULT_WAIT, ScanRunError, type Receipt } from '../client/push/scan-run';
import { runRequestSchema } from '../functions/shared/core/scan-run';
import { requestBody } from '../client/push/batches';
import { parseDueDays } from '../client/scan/mapping';
import { wafBodyRule } from '../local/gateway/waf';

const USAGE = `usage: npm run push -- --url https://host[:port] --cert client.crt --key client.key [--cacert ca.pem]
         --org ORG [--format NAME] [--scanner NAME] [--scanned-at 2026-03-02T09:00:00Z] [--no-complete] [--batch 100]
         [--concurrency 4] [--max-bytes N] [--due-days critical=15,high=30,medium=90,low=180,info=365] [--dry-run] FILE...|-
--format: read the files as this format instead of recognising it (${SCAN_FORMAT_READERS.map((format) => format.name).join(', ')}).
--scanner: the scanner the run is for (default: the format's): completing it closes only this scanner's findings.
--scanned-at: the scan's time (default: the scan's time in the export, else now).
--no-complete: send without completing the run, so nothing is marked FIXED.
FILE: an export of one of the formats above, recognised from its content; - reads standard input.`;

const OPTIONS = {
  url: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  cacert: { type: 'string' },
  org: { type: 'string' },
  batch: { type: 'string' },
  concurrency: { type: 'string' },
  'max-bytes': { type: 'string' },
  'due-days': { type: 'string' },
  'dry-run': { type: 'boolean' },
  'scanned-at': { type: 'string' },
  scanner: { type: 'string' },
  format: { type: 'string' },
  'no-complete': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

function whole(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
  return Number(value);
}

function required(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function readPem(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`--${name}: cannot read ${path}`);
  }
}

/** The deployed API's body limit: the template's WAF size rule (64 KB by default), else the workflow's 256 KB. */
const defaultMaxBytes = () => wafBodyRule(loadStackTemplate())?.maxBytes ?? MAX_BODY_BYTES;

function progressReporter(total: number): {
  onBatch: (report: BatchReport, progress: PushProgress) => void;
  end: () => void;
} {
  const tty = process.stderr.isTTY === true;
  let nextTenth = 1;
  let drawn = false;
  return {
    onBatch: (_report, progress) => {
      const share = total === 0 ? 1 : progress.done / total;
      if (tty) {
        const width = 30;
        const filled = Math.round(share * width);
        process.stderr.write(
          `\rpushing [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}% ${progress.done}/${total} findings`,
        );
        drawn = true;
      } else if (share * 10 >= nextTenth || progress.done === total) {
        // Plain lines, at most one per tenth: a log of a big push stays readable.
        process.stderr.write(`pushed ${progress.done}/${total} findings\n`);
        while (share * 10 >= nextTenth) nextTenth += 1;
      }
    },
    end: () => {
      if (drawn) process.stderr.write('\n');
    },
  };
}

/** The receipt, as the command prints it. */
function describeReceipt(receipt: Receipt): string {
  const { counts } = receipt;
  return [
    `scan run ${receipt.runId}: ${receipt.state}, org ${receipt.org}, scanner ${receipt.scanner}, scanned at ${receipt.scannedAt}`,
    `  ${counts.batches} batches, ${counts.received} findings received: ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.stale} stale, ${counts.reopened} reopened, ${counts.fixed} fixed`,
    `  assets in scope (${receipt.assets.length}): ${receipt.assets.slice(0, 10).join(', ')}${receipt.assets.length > 10 ? ', …' : ''}`,
  ].join('\n');
}

function scannerOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parsed = runRequestSchema.shape.scanner.safeParse(value);
  if (!parsed.success) throw new UsageError('--scanner must be lower-case letters, digits and . _ - (at most 64)');
  return parsed.data;
}

function scannedAtOf(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = runRequestSchema.shape.scannedAt.safeParse(value);
  if (!parsed.success)
    throw new UsageError('--scanned-at must be an ISO 8601 date-time with a time zone, e.g. 2026-03-02T09:00:00Z');
  return new Date(parsed.data);
}

/** `, left out: 3 misconfigurations, 1 secret` for records that are not vulnerabilities. */
function ignoredText(ignored: Record<string, number> | undefined): string {
  const entries = Object.entries(ignored ?? {});
  return entries.length === 0 ? '' : `, left out: ${entries.map(([kind, count]) => `${count} ${kind}`).join(', ')}`;
}

function describeFiles(files: FileCheck[]): string {
  return files
    .map(
      (file) =>
        `${file.path === spooled ? 'standard input' : file.path}: ${file.format}, ${file.items} items, ${file.valid} findings${file.invalid.length > 0 ? `, ${file.invalid.length} invalid` : ''}${ignoredText(file.ignored)}`,
    )
    .join('\n');
}

function listProblems(label: string, problems: FindingProblem[]): string[] {
  const shown = problems.slice(0, 20).map((problem) => `${label} ${problem.vulnId}: ${problem.reason}`);
  if (problems.length > shown.length) shown.push(`… and ${problems.length - shown.length} more ${label}`);
  return shown;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('give at least one FILE (or - for standard input)');
  const format = formatOf(values.format);
  const org = required('org', values.org);
  const scanner = scannerOf(values.scanner);
  const paths = await withStandardInput(positionals);
  const mapping = await withRunScanner(
    paths,
    {
      org,
      format,
      dueDays: (() => {
        try {
          return parseDueDays(values['due-days']);
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
      })(),
      now: new Date(),
    },
    scanner,
  );
  const limits = {
    maxFindings: whole('batch', values.batch, MAX_FINDINGS_PER_REQUEST, 1, MAX_FINDINGS_PER_REQUEST),
    maxBytes: whole('max-bytes', values['max-bytes'], defaultMaxBytes(), 1024, MAX_BODY_BYTES),
  };

  if (values['dry-run']) {
    const plan = await planScanFiles(paths, { mapping, limits });
    console.error(describeFiles(plan.files));
    let batches = 0;
    let findings = 0;
    // What would be sent, one request body a line; nothing leaves the machine.
    for await (const batch of plan.batches) {
      batches += 1;
      findings += batch.findings.length;
      console.log(requestBody(batch.findings));
    }
    const invalid = plan.files.flatMap((file) => file.invalid);
    for (const line of listProblems('invalid', invalid)) console.error(line);
    console.error(
      `dry run: ${findings + invalid.length} parsed, ${findings} would be sent in ${batches} batches of at most ${limits.maxFindings} findings and ${limits.maxBytes} bytes, ${invalid.length} invalid`,
    );
    return invalid.length === 0 ? 0 : 1;
  }

  const connection = {
    url: required('url', values.url),
    identity: {
      certPem: readPem('cert', required('cert', values.cert)),
      keyPem: readPem('key', required('key', values.key)),
    },
    caPem: values.cacert === undefined ? undefined : readPem('cacert', values.cacert),
  };
  const complete = values['no-complete'] !== true;
  let progress: ReturnType<typeof progressReporter> | undefined;
  const result = await pushScanRun(paths, {
    mapping,
    limits,
    concurrency: whole('concurrency', values.concurrency, 4, 1, 32),
    connection,
    scannedAt: scannedAtOf(values['scanned-at']),
    complete,
    onOpened: (run) =>
      console.error(`opened scan run ${run.runId} for ${run.org} (${run.scanner}, scanned at ${run.scannedAt})`),
    onBatch: (report, state) => {
      progress ??= progressReporter(state.total);
      progress.onBatch(report, state);
    },
    onCompleting: () => {
      progress?.end();
      progress = undefined;
      console.error('every batch was accepted: completing the run (what it covered and did not see becomes FIXED)');
    },
    wait: {
      ...DEFAULT_WAIT,
      onPoll: (receipt, poll) =>
        process.stderr.write(`closing scan run ${receipt.runId}: ${receipt.state}, ${poll} s\n`),
    },
  });
  progress?.end();
  const { summary, receipt } = result;
  console.log(describeFiles(summary.files));
  for (const line of [...listProblems('rejected', summary.rejected), ...listProblems('failed', summary.failed)])
    console.log(line);
  console.log(
    `parsed ${summary.parsed}, sent ${summary.sent}, created ${summary.created}, updated ${summary.updated}, unchanged ${summary.unchanged}, stale ${summary.stale}, reopened ${summary.reopened}, rejected ${summary.rejected.length}, failed ${summary.failed.length}` +
      ` (${summary.batches} batches, ${summary.requests} requests${summary.splits > 0 ? `, ${summary.splits} split on 413` : ''})`,
  );
  console.log(describeReceipt(receipt));
  if (!pushSucceeded(summary)) {
    console.log(
      `scan run ${receipt.runId} left open: not every batch was accepted, so nothing was closed. Fix the cause and push again.`,
    );
    return 1;
  }
  if (!complete) {
    console.log(`scan run ${receipt.runId} left open (--no-complete): nothing was closed.`);
    return 0;
  }
  if (receipt.state !== 'closed') {
    console.log(
      `scan run ${receipt.runId} is still ${receipt.state}; read its receipt later: GET /scans/${receipt.runId}?org=${receipt.org}`,
    );
    return 1;
  }
  return 0;
}

function formatOf(value: string | undefined): ScanFormat | undefined {
  if (value === undefined) return undefined;
  if (formatNamed(value) === undefined)
    throw new UsageError(`--format must be one of ${SCAN_FORMAT_READERS.map((format) => format.name).join(', ')}`);
  return value as ScanFormat;
}

/** A temporary copy of standard input, removed when the command ends. */
let spooled: string | undefined;

/**
 * `-` is standard input (`trivy image -f json IMAGE | npm run push -- --org org1 -`): copied to a
 * private temporary file first, since a push reads its files twice (checked, then sent) and memory
 * must not hold a whole scan.
 */
async function withStandardInput(positionals: string[]): Promise<string[]> {
  const dashes = positionals.filter((path) => path === '-').length;
  if (dashes === 0) return positionals;
  if (dashes > 1) throw new UsageError('- (standard input) can be given once');
  const dir = await mkdtemp(join(tmpdir(), 'push-stdin-'));
  spooled = join(dir, 'stdin');
  await pipeline(process.stdin, createWriteStream(spooled, { mode: 0o600 }));
  return positionals.map((path) => (path === '-' ? (spooled as string) : path));
}

main(process.argv.slice(2))
  .finally(async () => {
    if (spooled !== undefined) await rm(dirname(spooled), { recursive: true, force: true });
  })
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // One line, never a stack: a usage problem, or the file that is not a scan export (nothing was sent).
      const known =
        error instanceof UsageError ||
        error instanceof ScanFileError ||
        error instanceof ScanRunError ||
        (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
      const message = (error as Error).message.replace(spooled ?? '\0', 'standard input');
      console.error(`push: ${known ? message : `failed: ${message}`}`);
      if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
        console.error(USAGE);
      process.exitCode = error instanceof ScanFileError ? exitCodeOf(error.cause) : 2;
    },
  );
