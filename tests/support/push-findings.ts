/**
 * A scanner's whole run through the push client, as `npm run push -- --complete` makes it: the findings written to
 * `file` as our JSON format, opened, sent, completed and waited for, with the stack's scanner certificate.
 */
import { writeFile } from 'node:fs/promises';
import type { Finding } from '../../functions/shared/core/finding-schema';
import type { MappingOptions } from '../../client/scan/mapping';
import { pushScanRun, type RunPushResult } from '../../client/push/push-run';
import type { TestStack } from './local-stack';

const RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5 };
const WAIT = { maxPolls: 400, intervalMs: 25 };

export async function pushFindingsRun(
  stack: TestStack,
  file: string,
  findings: Finding[],
  options: { mapping: MappingOptions; scannedAt: Date; concurrency: number },
): Promise<RunPushResult> {
  await writeFile(file, JSON.stringify({ findings }));
  return pushScanRun([file], {
    mapping: options.mapping,
    limits: { maxFindings: 20, maxBytes: 60_000 },
    concurrency: options.concurrency,
    connection: { url: stack.url, identity: stack.pki.scanner, caPem: stack.pki.ca.certPem, retry: RETRY },
    scannedAt: options.scannedAt,
    complete: true,
    wait: WAIT,
  });
}
