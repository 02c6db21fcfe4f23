/**
 * The batch sender against a real HTTPS server that demands a client certificate and answers what
 * each test scripts: retries, no retries, 413 splits, per-finding rejections.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Finding } from '../../../functions/shared/core/finding-schema';
import { requestBody, type Batch } from '../../../client/push/batches';
import { BatchSender, retryAfterMs, type RetryPolicy } from '../../../client/push/sender';
import { createCertificateAuthority, type CertificateAuthority, type Issued } from '../../../local/pki';
import { REFERENCE_FINDING } from '../../support/findings';
import { userAgent } from '../../../client/user-agent';

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
type Script = (body: { findings: Finding[] }, call: number) => Answer;

let ca: CertificateAuthority;
let client: Issued;
let server: Server;
let url: string;
let script: Script;
let received: { path: string | undefined; findings: Finding[]; clientCert: boolean; userAgent?: string }[];

const FAST: RetryPolicy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5 };

beforeAll(async () => {
  ca = await createCertificateAuthority('CN=Sender Test CA, O=Example Corp');
  const serverCert = await ca.issue({ subject: 'CN=localhost, O=Example Corp', kind: 'server' });
  client = await ca.issue({ subject: 'CN=scanner-1, OU=scanner, O=Example Corp', kind: 'client' });
  server = createServer(
    { key: serverCert.keyPem, cert: serverCert.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
    (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { findings: Finding[] };
        received.push({
          path: request.url,
          userAgent: request.headers['user-agent'],
          findings: body.findings,
          clientCert: (request.socket as import('node:tls').TLSSocket).getPeerCertificate().subject !== undefined,
        });
        const answer = script(body, received.length);
        response.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
        response.end(JSON.stringify(answer.body ?? {}));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received = [];
});

const batchOf = (count: number): Batch => {
  const findings = Array.from({ length: count }, (_, index) => ({ ...REFERENCE_FINDING, VulnID: `f-${index}` }));
  return { findings, bytes: Buffer.byteLength(requestBody(findings)) };
};
const sender = () => new BatchSender({ url, identity: client, caPem: ca.certPem, retry: FAST });
const ok = (body: { findings: Finding[] }): Answer => ({
  status: 200,
  body: { accepted: body.findings.length, created: body.findings.length, updated: 0 },
});

describe('BatchSender', () => {
  it('posts the batch to /vuln with the client certificate and its User-Agent, and counts what the API created', async () => {
    script = ok;
    await expect(sender().send(batchOf(3))).resolves.toMatchObject({
      findings: 3,
      created: 3,
      updated: 0,
      rejected: [],
      failed: [],
      requests: 1,
    });
    // The deployed WAF blocks a request without a User-Agent (NoUserAgent_HEADER, docs/local-stack.md).
    expect(received).toEqual([
      { path: '/vuln', userAgent: userAgent('push'), findings: batchOf(3).findings, clientCert: true },
    ]);
  });

  it('keeps a base path of the URL (a stage or a custom domain mapping)', async () => {
    script = ok;
    await new BatchSender({ url: `${url}/v1`, identity: client, caPem: ca.certPem, retry: FAST }).send(batchOf(1));
    expect(received.map((entry) => entry.path)).toEqual(['/v1/vuln']);
  });

  it('retries 429, 503, 504 and then succeeds', async () => {
    const statuses = [429, 503, 504];
    script = (body, call) =>
      call <= 3 ? { status: statuses[call - 1] as number, headers: { 'Retry-After': '0' } } : ok(body);
    const report = await new BatchSender({
      url,
      identity: client,
      caPem: ca.certPem,
      retry: { ...FAST, attempts: 4 },
    }).send(batchOf(2));
    expect(report).toMatchObject({ created: 2, failed: [], requests: 4 });
  });

  it('reports the findings as failed when the retries run out', async () => {
    script = () => ({ status: 503, body: { message: 'Service temporarily unavailable' } });
    const report = await sender().send(batchOf(2));
    expect(report.requests).toBe(3);
    expect(report.failed).toEqual([
      { vulnId: 'f-0', reason: 'HTTP 503: Service temporarily unavailable after 3 attempts' },
      { vulnId: 'f-1', reason: 'HTTP 503: Service temporarily unavailable after 3 attempts' },
    ]);
  });

  it('never retries a 403, and names every finding of the batch', async () => {
    script = () => ({ status: 403, body: { message: 'Forbidden' } });
    const report = await sender().send(batchOf(2));
    expect(report.requests).toBe(1);
    expect(report.rejected.map((problem) => problem.vulnId)).toEqual(['f-0', 'f-1']);
    expect(report.rejected[0]?.reason).toMatch(/^403 Forbidden/);
  });

  it('on a 400 naming findings rejects those and sends the rest again, once', async () => {
    script = (body, call) =>
      call === 1
        ? {
            status: 400,
            body: {
              message: 'Invalid request',
              errors: [{ index: 1, path: 'DueDate', message: 'must be a real calendar date' }],
            },
          }
        : ok(body);
    const report = await sender().send(batchOf(3));
    expect(report).toMatchObject({
      findings: 3,
      created: 2,
      rejected: [{ vulnId: 'f-1', reason: '400 DueDate: must be a real calendar date' }],
      requests: 2,
    });
    expect(received[1]?.findings.map((finding) => finding.VulnID)).toEqual(['f-0', 'f-2']);
  });

  it('on a 400 about the whole request rejects the batch without retrying', async () => {
    script = () => ({ status: 400, body: { message: 'Invalid request body' } });
    const report = await sender().send(batchOf(2));
    expect(report).toMatchObject({
      requests: 1,
      rejected: [
        { vulnId: 'f-0', reason: '400 Invalid request body' },
        { vulnId: 'f-1', reason: '400 Invalid request body' },
      ],
    });
  });

  it('splits a batch on 413 until the halves fit, and rejects a finding too large alone', async () => {
    script = (body) =>
      body.findings.length > 2
        ? { status: 413, body: { message: 'Request body too large' } }
        : body.findings.some((finding) => finding.VulnID === 'f-4')
          ? { status: 413 }
          : ok(body);
    const report = await sender().send(batchOf(6));
    expect(report.created).toBe(5);
    expect(report.rejected).toEqual([
      { vulnId: 'f-4', reason: expect.stringMatching(/^too large for the API even alone \(413/) },
    ]);
    expect(report.splits).toBeGreaterThanOrEqual(2);
    expect(report.findings).toBe(6);
  });

  it('treats a TLS refusal as a network error: retried, then failed, nothing received', async () => {
    const stranger = await (
      await createCertificateAuthority('CN=Other CA')
    ).issue({ subject: 'CN=x, OU=scanner', kind: 'client' });
    const report = await new BatchSender({ url, identity: stranger, caPem: ca.certPem, retry: FAST }).send(batchOf(1));
    expect(report.failed[0]?.reason).toMatch(/^network error/);
    expect(received).toEqual([]);
  });
});

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
