/**
 * `npm run push -- --url https://host[:port] --cert client.crt --key client.key [--cacert ca.pem]
 *   --org ORG [--batch 100] [--concurrency 4] [--max-bytes N] [--due-days critical=15,…] [--dry-run] FILE...`
 *
 * The entry point only: arguments, progress and exit code. Reading, mapping, batching and sending
 * live in client/ (docs/scan-import.md). Exit 0 when every finding was stored, 1 when any was
 * rejected or failed, 2 for a usage error or a file that is not a scan export (then nothing is sent).
 */
import { loadStackTemplate } from '../local/cloudformation/nested-stacks';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MAX_BODY_BYTES, MAX_FINDINGS_PER_REQUEST } from '../functions/shared/core/limits';
import { BatchSender, type BatchReport, type FindingProblem } from '../client/push/sender';
import { planScanFiles, pushScanFiles, pushSucceeded, ScanFileError, type FileCheck, type PushProgress } from '../client/push/push';
import { requestBody } from '../client/push/batches';
import { parseDueDays, type MappingOptions } from '../client/scan/mapping';
import { wafBodyRule } from '../local/gateway/waf';

const USAGE = `usage: npm run push -- --url https://host[:port] --cert client.crt --key client.key [--cacert ca.pem]
         --org ORG [--batch 100] [--concurrency 4] [--max-bytes N]
         [--due-days critical=15,high=30,medium=90,low=180,info=365] [--dry-run] FILE...
FILE: a Nessus v2 export (.nessus), a Tenable/Nessus CSV export, or a JSON file of findings.`;

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
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

function whole(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
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

function progressReporter(total: number): { onBatch: (report: BatchReport, progress: PushProgress) => void; end: () => void } {
  const tty = process.stderr.isTTY === true;
  let nextTenth = 1;
  let drawn = false;
  return {
    onBatch: (_report, progress) => {
      const share = total === 0 ? 1 : progress.done / total;
      if (tty) {
        const width = 30;
        const filled = Math.round(share * width);
        process.stderr.write(`\rpushing [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}% ${progress.done}/${total} findings`);
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

function describeFiles(files: FileCheck[]): string {
  return files.map((file) => `${file.path}: ${file.format}, ${file.items} items, ${file.valid} findings${file.invalid.length > 0 ? `, ${file.invalid.length} invalid` : ''}`).join('\n');
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
  if (positionals.length === 0) throw new UsageError('give at least one FILE');
  const mapping: MappingOptions = {
    org: required('org', values.org),
    scanner: 'nessus',
    dueDays: (() => {
      try {
        return parseDueDays(values['due-days']);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    })(),
    now: new Date(),
  };
  const limits = {
    maxFindings: whole('batch', values.batch, MAX_FINDINGS_PER_REQUEST, 1, MAX_FINDINGS_PER_REQUEST),
    maxBytes: whole('max-bytes', values['max-bytes'], defaultMaxBytes(), 1024, MAX_BODY_BYTES),
  };

  if (values['dry-run']) {
    const plan = await planScanFiles(positionals, { mapping, limits });
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
    console.error(`dry run: ${findings + invalid.length} parsed, ${findings} would be sent in ${batches} batches of at most ${limits.maxFindings} findings and ${limits.maxBytes} bytes, ${invalid.length} invalid`);
    return invalid.length === 0 ? 0 : 1;
  }

  const sender = new BatchSender({
    url: required('url', values.url),
    identity: { certPem: readPem('cert', required('cert', values.cert)), keyPem: readPem('key', required('key', values.key)) },
    caPem: values.cacert === undefined ? undefined : readPem('cacert', values.cacert),
  });
  let progress: ReturnType<typeof progressReporter> | undefined;
  const summary = await pushScanFiles(positionals, {
    mapping,
    limits,
    concurrency: whole('concurrency', values.concurrency, 4, 1, 32),
    sender,
    onBatch: (report, state) => {
      progress ??= progressReporter(state.total);
      progress.onBatch(report, state);
    },
  });
  progress?.end();
  console.log(describeFiles(summary.files));
  for (const line of [...listProblems('rejected', summary.rejected), ...listProblems('failed', summary.failed)]) console.log(line);
  console.log(
    `parsed ${summary.parsed}, sent ${summary.sent}, created ${summary.created}, updated ${summary.updated}, rejected ${summary.rejected.length}, failed ${summary.failed.length}` +
      ` (${summary.batches} batches, ${summary.requests} requests${summary.splits > 0 ? `, ${summary.splits} split on 413` : ''})`,
  );
  return pushSucceeded(summary) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // One line, never a stack: a usage problem, or the file that is not a scan export (nothing was sent).
    const known = error instanceof UsageError || error instanceof ScanFileError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`push: ${known ? (error as Error).message : `failed: ${(error as Error).message}`}`);
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) console.error(USAGE);
    process.exitCode = 2;
  },
);
