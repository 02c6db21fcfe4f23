/**
 * `npm run demo`: replays the reference scenarios against the local stack and says PASS or FAIL for
 * each (exit code 1 on any FAIL). It uses the stack `npm start` runs in this checkout (found through
 * .local/stack.json, whatever its ports), else whatever answers on https://localhost:${PORT:-3443}, or,
 * when nothing answers there, starts one in this process (in memory, random ports, demo grants) and says so.
 *
 *   --url URL   another gateway (e.g. one started by a test)
 *   --pki DIR   the dev PKI the gateway trusts (default .local/pki)
 */
import { targetPorts } from '../local/ports';
import { discoverStack } from '../local/stack-state';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { call, isListening, type CallOptions, type ClientIdentity } from '../client/mtls';
import { userAgent } from '../client/user-agent';
import { readAllFindings } from '../client/read-findings';
import { silentLog } from '../local/gateway/log';
import { REFERENCE_FINDING } from '../local/seed';
import { startLocalStack, type LocalStack } from '../local/stack';
import { createCertificateAuthority, DEV_SUBJECTS, ensureDevPki, issueFromNonCa, type DevPki } from '../local/pki';
import { localStackDir } from '../local/stack-state';
import { printCheck, runMain, summarize, type CheckResult } from './checks';

export type StepResult = CheckResult;

const FORBIDDEN = '{"message":"Forbidden"}';

/** The reference scenarios, in order; each step reports instead of throwing. */
export async function runDemo(
  url: string,
  pki: DevPki,
  report: (step: StepResult) => void = () => undefined,
): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const request = (identity: ClientIdentity, options: Omit<CallOptions, 'caPem' | 'identity' | 'userAgent'>) =>
    call(url, { ...options, identity, caPem: pki.ca.certPem, userAgent: userAgent('demo') });
  const step = async (name: string, check: () => Promise<[boolean, string]>) => {
    let result: StepResult;
    try {
      const [passed, detail] = await check();
      result = { name, passed, detail };
    } catch (error) {
      result = { name, passed: false, detail: `${(error as Error).name}: ${(error as Error).message}` };
    }
    results.push(result);
    report(result);
  };
  const summary = (answer: { status: number; body: string }) => `${answer.status} ${answer.body.trim().slice(0, 160)}`;

  await step('a client certificate from a CA the truststore does not hold is refused (403)', async () => {
    // A CA made now, under the dev CA's own name, cannot be in any truststore: the refusal is the TLS layer's, not a grant's.
    const foreignCa = await createCertificateAuthority(DEV_SUBJECTS.ca);
    const foreign = await foreignCa.issue({ subject: DEV_SUBJECTS.scanner, kind: 'client' });
    const answer = await request(foreign, { path: '/vuln?org=org1' });
    return [answer.status === 403 && answer.body === FORBIDDEN, summary(answer)];
  });
  await step('the scanner posts the reference finding (200)', async () => {
    const answer = await request(pki.scanner, { path: '/vuln', body: REFERENCE_FINDING });
    return [answer.status === 200 && (answer.json() as { accepted?: number }).accepted === 1, summary(answer)];
  });
  await step('the dashboard may not post (403)', async () => {
    const answer = await request(pki.dashboard, { path: '/vuln', body: REFERENCE_FINDING });
    return [answer.status === 403, summary(answer)];
  });
  await step('the dashboard reads org1 and sees the posted finding (200)', async () => {
    // Every page, following nextToken: a page may be short or empty and still not be the last.
    let items: Record<string, unknown>[];
    try {
      items = await readAllFindings((path) => request(pki.dashboard, { path }), 'org=org1', 20);
    } catch (error) {
      return [false, (error as Error).message];
    }
    const found = items.find((item) => item.VulnID === REFERENCE_FINDING.VulnID);
    return [
      found?.PluginName === REFERENCE_FINDING.PluginName,
      `200 ${items.length} finding(s)${found ? `, ${REFERENCE_FINDING.VulnID} among them` : ''}`,
    ];
  });
  await step('the dashboard may not read org5 (403)', async () => {
    const answer = await request(pki.dashboard, { path: '/vuln?org=org5' });
    return [answer.status === 403, summary(answer)];
  });
  await step('a certificate signed by a client certificate (not a CA) is refused (403)', async () => {
    const forged = await issueFromNonCa(pki.scanner, 'CN=forged-01, OU=scanner, O=Example Corp');
    const answer = await request(forged, { path: '/vuln?org=org1' });
    return [answer.status === 403 && answer.body === FORBIDDEN, summary(answer)];
  });
  return results;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { url: { type: 'string' }, pki: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    console.log('usage: npm run demo -- [--url https://localhost:3443] [--pki .local/pki]');
    return 0;
  }
  const running = values.url ? undefined : discoverStack();
  if (running && !running.trustsDevCa) {
    console.error(
      `The running stack (pid ${running.pid}, ${running.gatewayUrl}) trusts ${running.truststore}, which does not hold the dev CA the demo's certificates come from: its checks would fail for that reason alone. Run the demo against a stack that trusts ${join(running.pkiDir, 'ca.pem')}.`,
    );
    return 1;
  }
  const pki = await ensureDevPki(values.pki ? resolve(values.pki) : (running?.pkiDir ?? join(localStackDir(), 'pki')));
  let url = values.url ?? running?.gatewayUrl;
  let stack: LocalStack | undefined;
  if (!url) {
    const port = targetPorts().gateway;
    if (await isListening(port)) url = `https://localhost:${port}`;
    else {
      console.log(`Nothing answers on port ${port}: starting a local stack in this process (in memory).`);
      stack = await startLocalStack({
        backend: { dynamoDbPort: 0, environment: { POWERTOOLS_LOG_LEVEL: 'SILENT', GRANT_CACHE_SECONDS: '0' } },
        gateway: {
          tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem },
          truststorePem: pki.ca.certPem,
          port: 0,
          log: silentLog,
        },
        seed: { scanner: pki.scanner, caPem: pki.ca.certPem },
      });
      url = stack.url;
    }
  }
  console.log(`Demo against ${url}${stack ? ' (self-started)' : ''}\n`);
  try {
    const results = await runDemo(url, pki, printCheck);
    return summarize(results);
  } finally {
    await stack?.close();
  }
}

if (require.main === module) runMain(main);
