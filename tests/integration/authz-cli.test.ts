/** `npm run authz`: edits the local authz table, and the gateway obeys the edits at once. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { runAuthz } from '../../client/authz-command';
import { PROJECT_ROOT } from '../../local/cloudformation/template';
import { portOf, startTestStack, type TestStack } from '../support/local-stack';

const run = promisify(execFile);
let stack: TestStack;

async function authz(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAuthz(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  stack = await startTestStack();
  // The CLI's default target: the local DynamoDB server on $DYNAMODB_PORT.
  process.env.DYNAMODB_PORT = String(portOf(stack.stack.backend.dynamoDbEndpoint));
});

afterAll(async () => {
  delete process.env.DYNAMODB_PORT;
  await stack?.close();
});

test('grant, list, revoke and revoke-cert change what the gateway allows', async () => {
  const read = () => stack.request(stack.pki.dashboard, { path: '/vuln?org=org5' });
  expect((await read()).status).toBe(403);

  expect(await authz('grant', '--ou', 'dashboard', '--methods', 'get', '--orgs', 'org1,org5')).toMatchObject({
    code: 0,
    out: expect.stringContaining('replaced the grant of OU dashboard'),
  });
  expect((await read()).status).toBe(200);

  const listed = await authz('list', '--json');
  expect(listed.code).toBe(0);
  expect(JSON.parse(listed.out)).toMatchObject({
    grants: expect.arrayContaining([
      { ou: 'dashboard', grant: { methods: ['GET'], orgs: ['org1', 'org5'] } },
      { ou: 'scanner', grant: { methods: ['POST'], orgs: '*' } },
    ]),
  });
  expect((await authz('list')).out).toMatch(/dashboard: methods=GET orgs=org1,org5/);

  const serial = stack.pki.dashboard.serialNumber;
  const colonSerial = (serial.toLowerCase().match(/../g) ?? []).join(':');
  const caFile = join(stack.pki.dir, 'ca.pem');
  expect(
    await authz('revoke-cert', '--serial', colonSerial, '--issuer-cert', caFile, '--reason', 'laptop lost'),
  ).toMatchObject({ code: 0, out: expect.stringContaining(serial) });
  expect((await read()).status).toBe(403);
  expect(JSON.parse((await authz('list', '--json')).out).revokedCertificates).toContainEqual(
    expect.objectContaining({ serialNumber: serial, reason: 'laptop lost' }),
  );

  expect(await authz('revoke', '--ou', 'scanner')).toMatchObject({
    code: 0,
    out: expect.stringContaining('revoked the grant of OU scanner'),
  });
  expect(
    (
      await stack.request(stack.pki.scanner, {
        path: '/vuln',
        body: {
          findings: [
            {
              VulnID: 'a',
              Org: 'org1',
              AssetName: 'a',
              DueDate: '2024-01-01',
              PluginId: 1,
              PluginName: 'p',
              Priority: 'p',
            },
          ],
        },
      })
    ).status,
  ).toBe(403);
  expect(await authz('revoke', '--ou', 'scanner')).toMatchObject({
    code: 0,
    out: expect.stringContaining('had no grant'),
  });
});

test('grant says whether it added or replaced, --add-orgs adds, and every edit says when it takes effect', async () => {
  const grant = (...argv: string[]) => authz('grant', '--ou', 'auditor', ...argv);
  const added = await grant('--methods', 'GET', '--orgs', 'org1');
  expect(added.out).toMatch(
    /^added a grant for OU auditor: methods=GET orgs=org1 \(local table AuthzTable at http:\/\/127\.0\.0\.1:\d+\); takes effect within 30 s/,
  );
  const replaced = await grant('--methods', 'GET', '--orgs', 'org2');
  expect(replaced.out).toContain(
    'replaced the grant of OU auditor: now methods=GET orgs=org2 (was methods=GET orgs=org1; --add-orgs adds instead)',
  );
  const widened = await grant('--add-orgs', 'org3,org2', '--methods', 'POST');
  expect(widened.out).toContain(
    'added to the grant of OU auditor: now methods=GET,POST orgs=org2,org3 (was methods=GET orgs=org2)',
  );
  expect(JSON.parse((await authz('list', '--json')).out).grants).toContainEqual({
    ou: 'auditor',
    grant: { methods: ['GET', 'POST'], orgs: ['org2', 'org3'] },
  });
  // An issuer pin survives --add-orgs.
  const caFile = join(stack.pki.dir, 'ca.pem');
  await grant('--methods', 'GET', '--orgs', 'org1', '--issuer-cert', caFile);
  expect((await grant('--add-orgs', 'org4')).out).toMatch(
    /now methods=GET orgs=org1,org4 issuer="[^"]*Dev CA[^"]*" key sha256:/,
  );
  expect((await authz('grant', '--ou', 'newcomer', '--add-orgs', 'org1')).err).toContain(
    'give --methods with --add-orgs',
  );
  expect((await grant('--methods', 'GET', '--orgs', 'org1', '--add-orgs', 'org2')).err).toContain('not both');
  for (const argv of [
    ['revoke', '--ou', 'auditor'],
    ['revoke-cert', '--cert', join(stack.pki.dir, 'rogue-ca.pem')],
    ['unrevoke-cert', '--cert', join(stack.pki.dir, 'rogue-ca.pem')],
  ]) {
    expect((await authz(...argv)).out).toMatch(
      /takes effect within 30 s \(the local stack's GrantCacheSeconds\)|takes effect within the deployed/,
    );
  }
});

test('--table takes the region from the SDK default chain (AWS_REGION), and says which', async () => {
  const saved = { ...process.env };
  try {
    process.env.AWS_REGION = 'eu-west-3';
    process.env.AWS_ACCESS_KEY_ID = 'local';
    process.env.AWS_SECRET_ACCESS_KEY = 'local';
    const listed = await authz('list', '--table', 'AuthzTable', '--endpoint', stack.stack.backend.dynamoDbEndpoint);
    expect(listed).toMatchObject({ code: 0, out: expect.stringContaining('grants (table AuthzTable (eu-west-3)):') });
    expect(
      (
        await authz(
          'revoke',
          '--ou',
          'nobody',
          '--table',
          'AuthzTable',
          '--endpoint',
          stack.stack.backend.dynamoDbEndpoint,
        )
      ).out,
    ).toContain('OU nobody had no grant');
    expect(
      (
        await authz(
          'revoke',
          '--ou',
          'scanner-x',
          '--table',
          'AuthzTable',
          '--endpoint',
          stack.stack.backend.dynamoDbEndpoint,
        )
      ).code,
    ).toBe(0);
    for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[name];
    process.env.AWS_CONFIG_FILE = '/nonexistent';
    expect(
      await authz('list', '--table', 'AuthzTable', '--endpoint', stack.stack.backend.dynamoDbEndpoint),
    ).toMatchObject({ code: 2, err: expect.stringContaining('--table needs a region') });
  } finally {
    process.env = saved;
  }
});

test("sla set, show and reset: an org's SLA, stored as SLA#<org>, changes the due times GET /vuln answers", async () => {
  const DAY_MS = 24 * 60 * 60 * 1000;
  const finding = {
    VulnID: 'sla-cli-1',
    Org: 'org2',
    AssetName: 'web-01',
    DueDate: '2024-01-01',
    PluginId: 1,
    PluginName: 'p',
    Priority: 'critical',
  };
  // Certificates of their own: the tests above revoke the demo ones.
  await authz('grant', '--ou', 'sla-scanner', '--methods', 'POST', '--orgs', 'org2');
  await authz('grant', '--ou', 'sla-reader', '--methods', 'GET', '--orgs', 'org2');
  const scanner = await stack.ca.issue({ subject: 'CN=sla-scanner, OU=sla-scanner, O=Example Corp', kind: 'client' });
  const reader = await stack.ca.issue({ subject: 'CN=sla-reader, OU=sla-reader, O=Example Corp', kind: 'client' });
  expect((await stack.request(scanner, { path: '/vuln', body: { findings: [finding] } })).status).toBe(200);
  const dueAfterFirstSeen = async () => {
    const response = await stack.request(reader, { path: '/vuln?org=org2' });
    const [item] = (response.json() as { items: { FirstSeen: string; SlaDueAt: string | null; DueDate: string }[] })
      .items;
    expect(item?.DueDate).toBe('2024-01-01');
    return item?.SlaDueAt === null
      ? null
      : (Date.parse(String(item?.SlaDueAt)) - Date.parse(String(item?.FirstSeen))) / DAY_MS;
  };
  const stored = async () =>
    (await stack.dynamoDb.send(new GetItemCommand({ TableName: 'AuthzTable', Key: marshall({ Id: 'SLA#org2' }) })))
      .Item;

  const shown = await authz('sla', 'show', '--org', 'org2');
  expect(shown.out.split('\n')).toEqual([
    expect.stringMatching(/^SLA of org org2 \(local table AuthzTable at .*\): no policy stored, the defaults;/),
    '  CRITICAL 15 days (default)',
    '  HIGH     30 days (default)',
    '  MEDIUM   90 days (default)',
    '  LOW      180 days (default)',
    '  INFO     none (default)',
  ]);
  expect(await dueAfterFirstSeen()).toBe(15);

  const set = await authz('sla', 'set', '--org', 'org2', '--critical', '7', '--info', '365');
  expect(set.code).toBe(0);
  expect(set.out).toMatch(
    /^set the SLA of org org2: CRITICAL 7 days \(was 15 days\), INFO 365 days \(was none\) \(local table AuthzTable at .*\); takes effect within 30 s/,
  );
  // The layout the functions (and the summary) read: every severity, days or null.
  expect(unmarshall((await stored()) ?? {})).toEqual({
    Id: 'SLA#org2',
    Value: { CRITICAL: 7, HIGH: 30, MEDIUM: 90, LOW: 180, INFO: 365 },
  });
  expect(await dueAfterFirstSeen()).toBe(7);
  // Unnamed severities keep their current value; `none` removes one's SLA.
  await authz('sla', 'set', '--org', 'org2', '--high', '10', '--critical', 'none');
  expect(JSON.parse((await authz('sla', 'show', '--org', 'org2', '--json')).out)).toEqual({
    org: 'org2',
    stored: true,
    policy: { CRITICAL: null, HIGH: 10, MEDIUM: 90, LOW: 180, INFO: 365 },
  });
  expect(await dueAfterFirstSeen()).toBeNull();
  expect((await authz('sla', 'show', '--org', 'org2')).out).toContain(
    '  MEDIUM   90 days (default)\n  LOW      180 days (default)\n  INFO     365 days',
  );
  expect((await authz('list')).out).toContain('  org2: CRITICAL=none HIGH=10 MEDIUM=90 LOW=180 INFO=365');

  expect((await authz('sla', 'reset', '--org', 'org2')).out).toMatch(
    /^removed the SLA policy of org org2: back to the defaults/,
  );
  expect(await stored()).toBeUndefined();
  expect(await dueAfterFirstSeen()).toBe(15);
  expect((await authz('sla', 'reset', '--org', 'org2')).out).toMatch(
    /^org org2 had no SLA policy: it has the defaults/,
  );
  // A policy stored by other means that breaks the schema: the tool refuses to build on it, reset replaces it.
  await stack.dynamoDb.send(
    new PutItemCommand({
      TableName: 'AuthzTable',
      Item: marshall({ Id: 'SLA#org2', Value: { CRITICAL: 0, HIGH: 30, MEDIUM: 90, LOW: 180, INFO: null } }),
    }),
  );
  expect(await authz('sla', 'set', '--org', 'org2', '--high', '20')).toMatchObject({
    code: 2,
    err: expect.stringContaining('the stored SLA policy of org org2 is not valid; `sla reset --org org2` replaces it'),
  });
  expect((await authz('list')).out).toContain('  org2: not valid (sla reset replaces it)');
  expect((await authz('sla', 'reset', '--org', 'org2')).code).toBe(0);
  expect(await stored()).toBeUndefined();
  for (const ou of ['sla-scanner', 'sla-reader']) await authz('revoke', '--ou', ou);
});

test.each([
  [['sla'], /sla needs set, show or reset/],
  [['sla', 'drop', '--org', 'org1'], /unknown command sla drop/],
  [['sla', 'set', '--org', 'org1'], /sla set needs at least one of --critical/],
  [['sla', 'set', '--critical', '7'], /--org is required/],
  [['sla', 'set', '--org', 'bad org', '--critical', '7'], /--org: "bad org"/],
  [
    ['sla', 'set', '--org', 'org1', '--critical', '0'],
    /--critical must be whole days from 1 to 3650, or none for no SLA/,
  ],
  [['sla', 'set', '--org', 'org1', '--high', '3651'], /--high must be whole days from 1 to 3650/],
  [['sla', 'set', '--org', 'org1', '--low', '1.5'], /--low must be whole days from 1 to 3650/],
  [['sla', 'set', '--org', 'org1', '--medium', 'soon'], /--medium must be whole days from 1 to 3650/],
  [['sla', 'show', '--org', 'org1', '--critical', '7'], /sla show does not take --critical/],
])('refuses %j with exit code 2 and the usage, writing nothing', async (argv, message) => {
  const result = await authz(...argv);
  expect(result.code).toBe(2);
  expect(result.err).toMatch(message);
  expect(result.err).toContain('usage: npm run authz');
  expect(JSON.parse((await authz('list', '--json')).out).slaPolicies).toEqual([]);
});

test.each([
  [['frobnicate'], /unknown command frobnicate/],
  [[], /a command is required/],
  [['grant', '--methods', 'GET', '--orgs', 'org1'], /--ou is required/],
  [['grant', '--ou', 'x', '--methods', 'GET,DELETE', '--orgs', 'org1'], /--methods .*not DELETE/],
  [['grant', '--ou', 'x', '--methods', 'GET', '--orgs', 'org1,bad org'], /--orgs: "bad org"/],
  [['grant', '--ou', 'x', '--methods', 'GET'], /--orgs is required/],
  [['revoke-cert', '--serial', 'xyz'], /--serial must be .*hexadecimal/],
  [['revoke', '--ou', 'x', '--orgs', 'org1'], /revoke does not take --orgs/],
  [['list', '--region', 'eu-west-1'], /--region needs --table/],
  [['list', '--bogus'], /Unknown option '--bogus'/],
])('refuses %j with exit code 2 and the usage', async (argv, message) => {
  const result = await authz(...argv);
  expect(result.code).toBe(2);
  expect(result.err).toMatch(message);
  expect(result.err).toContain('usage: npm run authz');
});

test('as a command: exit 2 on bad arguments, 1 when the local DynamoDB server is not there', async () => {
  const script = ['--import', 'tsx', 'cli/authz.ts'];
  await expect(run(process.execPath, [...script, 'frobnicate'], { cwd: PROJECT_ROOT })).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringContaining('usage:'),
  });
  await expect(
    run(process.execPath, [...script, 'list'], { cwd: PROJECT_ROOT, env: { ...process.env, DYNAMODB_PORT: '1' } }),
  ).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('is `npm start` running?'),
  });
});

test("the README's authz commands run as written, in order, and do what they say", async () => {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const lines = [...readme.matchAll(/^npm run authz -- (.+)$/gm)].map((match) => match[1] as string);
  expect(lines.length).toBeGreaterThanOrEqual(5);
  for (const line of lines) {
    // Shell words: single-quoted strings or bare words, as the README writes them.
    // The README's paths are the dev PKI of `npm start`; this stack has its own.
    const argv = [...line.matchAll(/'([^']*)'|(\S+)/g)].map((match) =>
      (match[1] ?? match[2] ?? '').replace(/^\.local\/pki\//, `${stack.pki.dir}/`),
    );
    const result = await authz(...argv);
    expect({ line, code: result.code, err: result.err }).toEqual({ line, code: 0, err: '' });
  }
  const listed = JSON.parse((await authz('list', '--json')).out) as {
    grants: { ou: string }[];
    issuers: Record<string, { subject?: string; revokedAt?: string }>;
    revokedCertificates: unknown[];
    slaPolicies: unknown[];
  };
  // "A triager's day" grants OU triage; the grants section's revoke line removes the dashboard grant; its
  // certificate was revoked and restored; the rogue CA stays revoked.
  expect(listed.grants.map((entry) => entry.ou)).toEqual(['scanner', 'triage']);
  // The triager's day set org1's SLA; org2's was set and reset.
  expect(listed.slaPolicies).toEqual([
    { org: 'org1', policy: { CRITICAL: 7, HIGH: 30, MEDIUM: 90, LOW: null, INFO: null } },
  ]);
  expect(listed.revokedCertificates).toEqual([]);
  expect(Object.values(listed.issuers)).toContainEqual(
    expect.objectContaining({
      subject: 'CN=Rogue CA, O=Rogue Corp',
      revokedAt: expect.any(String),
      reason: 'CA retired',
    }),
  );
});
