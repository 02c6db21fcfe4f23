/**
 * A run's opener reads its receipt with no CA registered and no pin, over mutual TLS (issue 21): the grants of
 * docs/deploy.md step 9 as `npm run authz` writes them, then `npm run push` as a user runs it (a child process;
 * tests never import cli/), which completes the run and prints the receipt it read. And nobody else passes for
 * the opener: a certificate of another trusted CA with the same subject and serial, and the same subject and
 * serial re-issued by the same CA with another key, get the 404 of a run that does not exist.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { runAuthz } from '../../client/authz-command';
import { ScanRunClient } from '../../client/push/scan-run';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { createCertificateAuthority, type CertificateAuthority } from '../../local/pki';
import { portOf, startTestStack, type TestStack } from '../support/local-stack';
import { NESSUS_SAMPLE } from '../support/scans';

let stack: TestStack;
let otherTrustedCa: CertificateAuthority;

async function authz(...argv: string[]): Promise<number> {
  return runAuthz(argv, { out: () => undefined, err: () => undefined });
}

function push(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'cli', 'push.ts'), ...args],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 90_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  // API Gateway lets through any certificate that chains to the truststore: a second CA there (even one
  // with the same name) is the strongest impostor's position, as its certificates reach the functions.
  otherTrustedCa = await createCertificateAuthority('CN=Vulnerability API Dev CA, O=Example Corp');
  stack = await startTestStack({ grants: false, trust: [otherTrustedCa.certPem] });
  process.env.DYNAMODB_PORT = String(portOf(stack.stack.backend.dynamoDbEndpoint));
  // docs/deploy.md step 9, without --table (the local table): no --issuer-cert, so no CA is registered.
  expect(await authz('grant', '--ou', 'scanner', '--methods', 'POST', '--orgs', 'org1,org2')).toBe(0);
  expect(await authz('grant', '--ou', 'dashboard', '--methods', 'GET', '--orgs', 'org1,org2')).toBe(0);
});

afterAll(async () => {
  delete process.env.DYNAMODB_PORT;
  await stack?.close();
});

const runs = () =>
  new ScanRunClient({
    url: stack.url,
    identity: stack.pki.scanner,
    caPem: stack.pki.ca.certPem,
    retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
  });

test('deploy.md step 9: grants without an issuer pin, then `npm run push` completes the run and prints the receipt it read', async () => {
  const pki = stack.pki.dir;
  const result = await push([
    '--url',
    stack.url,
    '--cert',
    join(pki, 'scanner.pem'),
    '--key',
    join(pki, 'scanner-key.pem'),
    '--cacert',
    join(pki, 'ca.pem'),
    '--org',
    'org1',
    NESSUS_SAMPLE,
  ]);
  expect(result.stderr).not.toContain('reading the scan run failed');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/scan run [0-9a-f-]{36}: closed, org org1, scanner nessus/);
});

test('nobody else passes for the opener: same serial from another trusted CA, same subject and serial re-issued with another key', async () => {
  const run = await runs().open({ org: 'org1', scanner: 'nessus', scannedAt: new Date().toISOString() });
  const path = `/scans/${run.runId}?org=org1`;
  const subject = 'CN=scanner-01, OU=scanner, O=Example Corp';
  const serialNumber = stack.pki.scanner.serialNumber;
  const impostors = {
    'another trusted CA, same subject and serial': await otherTrustedCa.issue({
      subject,
      kind: 'client',
      serialNumber,
    }),
    'the same CA, same subject and serial, another key': await stack.ca.issue({
      subject,
      kind: 'client',
      serialNumber,
    }),
    'the same CA, same subject, another serial': await stack.ca.issue({ subject, kind: 'client' }),
  };
  expect((await stack.request(stack.pki.scanner, { path })).status).toBe(200);
  const missing = `/scans/00000000-0000-4000-8000-000000000000?org=org1`;
  for (const [who, identity] of Object.entries(impostors)) {
    const answer = await stack.request(identity, { path });
    expect([who, answer.status, (answer.json() as { message: string }).message]).toEqual([who, 404, 'Not found']);
    // The very answer a run that does not exist gets: nothing tells that the run is there.
    const absent = await stack.request(identity, { path: missing });
    expect([who, absent.status, Object.keys(answer.json() as object).sort()]).toEqual([
      who,
      404,
      Object.keys(absent.json() as object).sort(),
    ]);
  }
  // The impostors keep what their grant allows (POST on org1): only the opener's right is refused them.
  const batch = await stack.request(impostors['the same CA, same subject and serial, another key'], {
    path: '/vuln',
    body: {
      runId: run.runId,
      findings: [
        {
          VulnID: 'CVE-2024-0001',
          Org: 'org1',
          AssetName: 'web-01',
          DueDate: '2030-01-31',
          PluginId: 1,
          PluginName: 'Example',
          Priority: 'High',
        },
      ],
    },
  });
  expect(batch.status).toBe(200);
});
