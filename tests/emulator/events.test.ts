/**
 * Every file in events/ runs through its target, so each `sam local invoke` example is known to
 * work: `<name>.json` goes to the function whose esbuild entry point is functions/<name>/handler.ts
 * (its bundle, in a Lambda-style execution environment, resolved from template.yaml),
 * `ingest-execution.json` to the ingestion state machine, both against the local DynamoDB-API
 * server. The OU of each event's certificate is granted what the event does.
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import {
  EVENTS_DIR,
  EXAMPLE_FINDING,
  EXAMPLE_FINDINGS,
  EXAMPLE_RUN,
  EXAMPLE_RUN_ID,
  EXAMPLE_SCAN_FINDING,
} from '../support/events';
import { openExampleRun } from '../support/scan-runs';
import { identityFromPem } from '../../functions/shared/core/identity';
import { normalizeFinding } from '../../functions/shared/core/normalize';
import { DEFAULT_SLA_POLICY, slaDueAt } from '../../functions/shared/core/sla';
import { putGrant } from '../../functions/shared/adapters/authz-admin';
import { startBackend, type LocalBackend } from '../../local/backend';
import { localDynamoDbClient } from '../../local/dynamodb/server';
import { PROJECT_ROOT } from '../../local/cloudformation/template';

const EXECUTION_EVENT = 'ingest-execution.json';
const NORMALIZED = EXAMPLE_FINDINGS.map(normalizeFinding);
const STORED = {
  ...normalizeFinding(EXAMPLE_SCAN_FINDING),
  FirstSeen: '2025-01-01T00:00:00.000Z',
  LastSeen: '2025-01-02T00:00:00.000Z',
};

const eventFiles = readdirSync(EVENTS_DIR)
  .filter((name) => name.endsWith('.json'))
  .sort();
const readEvent = (name: string) =>
  JSON.parse(readFileSync(resolve(EVENTS_DIR, name), 'utf8')) as Record<string, unknown>;

let backend: LocalBackend;
let client: DynamoDBClient;
/** Events file name → function logical id, from the template's esbuild entry points. */
const functionForFile = new Map<string, string>();
/** What the functions wrote to stdout and stderr (their environments' output reaches this process's streams). */
let written = '';

beforeAll(async () => {
  backend = await startBackend({
    dynamoDbPort: 0,
    retryIntervalMs: 0,
    environment: { GRANT_CACHE_SECONDS: '0', POWERTOOLS_LOG_LEVEL: 'INFO' },
  });
  client = localDynamoDbClient(backend.dynamoDbEndpoint);
  for (const definition of backend.functions.definitions) {
    const match = /^functions\/([a-z0-9-]+)\/handler\.ts$/.exec(relative(PROJECT_ROOT, definition.entryPoint));
    if (match) functionForFile.set(`${match[1]}.json`, definition.logicalId);
  }
});

afterAll(async () => {
  client.destroy();
  await backend.close();
});

const capture = () => {
  const record = (chunk: unknown) => {
    written += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    return true;
  };
  return [
    jest.spyOn(process.stdout, 'write').mockImplementation(record),
    jest.spyOn(process.stderr, 'write').mockImplementation(record),
  ];
};

/** Each event starts from an org1 partition holding nothing. */
beforeEach(async () => {
  const { Items = [] } = await client.send(
    new QueryCommand({
      TableName: backend.tableNames.FindingsTable,
      KeyConditionExpression: 'Org = :org',
      ExpressionAttributeValues: marshall({ ':org': 'org1' }),
    }),
  );
  for (const item of Items)
    await client.send(
      new DeleteItemCommand({
        TableName: backend.tableNames.FindingsTable,
        Key: { Org: item.Org as never, VulnID: item.VulnID as never },
      }),
    );
});

/** Every finding the events carry, as stored (undefined where one is missing). */
const storedExample = async () => {
  const items = await Promise.all(
    NORMALIZED.map(
      async ({ Org, VulnID }) =>
        (
          await client.send(
            new GetItemCommand({ TableName: backend.tableNames.FindingsTable, Key: marshall({ Org, VulnID }) }),
          )
        ).Item,
    ),
  );
  return items.every((item) => item !== undefined) ? items : undefined;
};

/** The client certificate an event carries, wherever its shape keeps it. */
function certificateOf(event: Record<string, unknown>): string | undefined {
  const principal = event.principal as { certPem?: string } | undefined;
  const requestContext = event.requestContext as { identity?: { clientCert?: { clientCertPem?: string } } } | undefined;
  return principal?.certPem ?? requestContext?.identity?.clientCert?.clientCertPem;
}

/** Grants the OU of the event's certificate what the event does, on the org it names. */
async function grantEventCertificate(event: Record<string, unknown>, method: 'GET' | 'POST' | 'TRIAGE') {
  const [ou] = identityFromPem(certificateOf(event) ?? '').organizationalUnits;
  await putGrant(client, backend.tableNames.AuthzTable, ou ?? '', { methods: [method], orgs: ['org1'] });
}

type Expectation = (event: Record<string, unknown>) => Promise<void>;

/** The run the run events name, open and empty (created again for each event that needs it). */
const openRun = () => openExampleRun(client, backend.tableNames.ScanRunsTable as string);

const invoke = (name: string, event: unknown) => backend.functions.invoke(functionForFile.get(name) ?? '', event);

const expectations: Record<string, Expectation> = {
  'validate.json': async (event) => {
    expect(await invoke('validate.json', event)).toEqual({
      valid: true,
      findings: (event.body as { findings: unknown[] }).findings,
      runId: null,
    });
  },
  'normalize.json': async (event) => {
    expect(await invoke('normalize.json', event)).toEqual(NORMALIZED);
  },
  'authorize.json': async (event) => {
    await grantEventCertificate(event, 'POST');
    expect(await invoke('authorize.json', event)).toEqual({
      allowed: true,
      ou: 'scanner',
      subject: 'CN=scanner-01, OU=scanner, O=Example Corp',
      serialNumber: expect.stringMatching(/^[0-9A-F]+$/),
      certificateSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  },
  'write.json': async (event) => {
    expect(await invoke('write.json', event)).toEqual({
      accepted: 2,
      created: 2,
      updated: 0,
      unchanged: 0,
      stale: 0,
      reopened: 0,
      runId: null,
      requestId: event.requestId,
    });
    expect(await storedExample()).toBeDefined();
  },
  'get-findings.json': async (event) => {
    await grantEventCertificate(event, 'GET');
    await client.send(new PutItemCommand({ TableName: backend.tableNames.FindingsTable, Item: marshall(STORED) }));
    // The same finding first seen just now is within its SLA: overdue=true leaves it out.
    const recent = { ...STORED, VulnID: `${STORED.VulnID}-recent`, FirstSeen: new Date().toISOString() };
    await client.send(new PutItemCommand({ TableName: backend.tableNames.FindingsTable, Item: marshall(recent) }));
    const response = (await invoke('get-findings.json', event)) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(200);
    // Each item with its effective workflow state, its Version (0: never written since versions exist) and its SLA
    // due time under the defaults (the org has no policy), long past for a finding first seen in January 2025.
    const slaDue = slaDueAt(STORED, DEFAULT_SLA_POLICY);
    expect(slaDue).not.toBeNull();
    expect(JSON.parse(response.body)).toEqual({
      org: 'org1',
      items: [{ ...STORED, Workflow: 'NEW', Version: 0, SlaDueAt: slaDue }],
      count: 1,
    });
    await client.send(
      new DeleteItemCommand({
        TableName: backend.tableNames.FindingsTable,
        Key: marshall({ Org: recent.Org, VulnID: recent.VulnID }),
      }),
    );
  },
  'triage-findings.json': async (event) => {
    await grantEventCertificate(event, 'TRIAGE');
    const reference = { ...normalizeFinding(EXAMPLE_FINDING), FirstSeen: STORED.FirstSeen, LastSeen: STORED.LastSeen };
    await client.send(new PutItemCommand({ TableName: backend.tableNames.FindingsTable, Item: marshall(reference) }));
    const response = (await invoke('triage-findings.json', event)) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      org: 'org1',
      processed: [{ index: 0, vulnId: EXAMPLE_FINDING.VulnID, workflow: 'ACKNOWLEDGED', version: 1 }],
      unprocessed: [],
      requestId: expect.any(String),
    });
  },
  'finding-events.json': async (event) => {
    // Every record recorded: no failure to retry; one history entry each, and the org's summary counts the finding once.
    expect(await invoke('finding-events.json', event)).toEqual({ batchItemFailures: [] });
    const history = await client.send(
      new QueryCommand({
        TableName: backend.tableNames.FindingHistoryTable,
        KeyConditionExpression: 'Finding = :finding',
        ExpressionAttributeValues: marshall({ ':finding': `org1#${EXAMPLE_FINDING.VulnID}` }),
      }),
    );
    expect(history.Items?.map((item) => unmarshall(item).Kind)).toEqual(['created', 'triaged']);
    const summary = await client.send(
      new GetItemCommand({ TableName: backend.tableNames.OrgSummaryTable, Key: marshall({ Org: 'org1' }) }),
    );
    expect(unmarshall(summary.Item ?? {})).toMatchObject({ Seq: '0000000000000000111200000000000000000002' });
    // Delivered again (at least once): the same entries, nothing counted twice.
    expect(await invoke('finding-events.json', event)).toEqual({ batchItemFailures: [] });
    const again = await client.send(
      new GetItemCommand({ TableName: backend.tableNames.OrgSummaryTable, Key: marshall({ Org: 'org1' }) }),
    );
    expect(unmarshall(again.Item ?? {})).toEqual(unmarshall(summary.Item ?? {}));
  },
  'get-finding-history.json': async (event) => {
    await grantEventCertificate(event, 'GET');
    await invoke('finding-events.json', readEvent('finding-events.json'));
    const response = (await invoke('get-finding-history.json', event)) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as { items: { Kind: string; By: unknown }[]; count: number };
    // Newest first, each saying who.
    expect(body.items.map((item) => item.Kind)).toEqual(['triaged', 'created']);
    expect(body.items[0]?.By).toMatchObject({ subject: 'CN=dashboard-01, OU=dashboard, O=Example Corp' });
  },
  'get-org-summary.json': async (event) => {
    await grantEventCertificate(event, 'GET');
    await invoke('finding-events.json', readEvent('finding-events.json'));
    const response = (await invoke('get-org-summary.json', event)) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as { org: string; counts: { OPEN: Record<string, Record<string, number>> } };
    expect(body.org).toBe('org1');
    expect(body.counts.OPEN.UNKNOWN?.ACKNOWLEDGED).toBe(1);
  },
  'scan-runs.json': async (event) => {
    expect(await invoke('scan-runs.json', event)).toEqual({ valid: true, run: EXAMPLE_RUN, orgs: [{ Org: 'org1' }] });
  },
  'close-run.json': async (event) => {
    await openRun();
    // The run covers nothing yet: the page closes nothing and there is no further page.
    expect(await invoke('close-run.json', event)).toEqual({
      runId: EXAMPLE_RUN_ID,
      cursor: null,
      more: false,
      fixed: 0,
    });
  },
  'get-scan-run.json': async (event) => {
    await openRun();
    await grantEventCertificate(event, 'GET');
    const response = (await invoke('get-scan-run.json', event)) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({
      runId: EXAMPLE_RUN_ID,
      ...EXAMPLE_RUN,
      state: 'open',
      assets: [],
    });
  },
  [EXECUTION_EVENT]: async (event) => {
    await grantEventCertificate(event, 'POST');
    const result = await backend.stateMachine.startSyncExecution(JSON.stringify(event));
    expect(result.status).toBe('SUCCEEDED');
    const output = JSON.parse(result.output ?? '{}') as { statusCode: number; body: string };
    expect(output.statusCode).toBe(200);
    expect(JSON.parse(output.body)).toEqual({
      message: 'Post vulnerability succeeded',
      accepted: 2,
      created: 2,
      updated: 0,
      unchanged: 0,
      stale: 0,
      reopened: 0,
      runId: null,
      requestId: event.requestId,
    });
    expect(await storedExample()).toBeDefined();
  },
};
describe('events/', () => {
  it('holds one event per function and the execution input', () => {
    expect(eventFiles).toEqual([...functionForFile.keys(), EXECUTION_EVENT].sort());
  });

  it.each(eventFiles)('%s has a handler and an expectation', (name) => {
    expect(functionForFile.has(name) || name === EXECUTION_EVENT).toBe(true);
    expect(expectations[name]).toBeDefined();
  });

  it.each(eventFiles)('%s runs through its handler', async (name) => {
    const expectation = expectations[name];
    if (!expectation) throw new Error(`events/${name} has no matching handler`);
    const spies = capture();
    try {
      await expectation(readEvent(name));
      // The environments' output crosses threads asynchronously: let it arrive.
      await new Promise((resolveLater) => setTimeout(resolveLater, 50));
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(written).not.toContain('BEGIN CERTIFICATE');
  });

  it("captured the functions' logs (so the check above can fail)", () => {
    expect(written).toContain('"level"');
  });

  it.each(eventFiles.filter((name) => certificateOf(readEvent(name)) !== undefined))(
    '%s carries a real certificate from events-ca.pem, valid until 2045',
    (name) => {
      const event = readEvent(name);
      const certificate = new X509Certificate(certificateOf(event) ?? '');
      const ca = new X509Certificate(readFileSync(resolve(EVENTS_DIR, 'events-ca.pem')));
      expect(certificate.verify(ca.publicKey)).toBe(true);
      expect(new Date(certificate.validTo).getUTCFullYear()).toBe(2045);
    },
  );

  it('gives the workflow the certificate once, as the PEM: every other field is parsed from it', () => {
    for (const name of ['authorize.json', EXECUTION_EVENT])
      expect([name, readEvent(name).principal]).toEqual([name, { certPem: certificateOf(readEvent(name)) }]);
  });

  it('describes the GET certificate as API Gateway does', () => {
    const event = readEvent('get-findings.json');
    const described = (event.requestContext as { identity: { clientCert: Record<string, unknown> } }).identity
      .clientCert;
    const certificate = new X509Certificate(certificateOf(event) ?? '');
    const ca = new X509Certificate(readFileSync(resolve(EVENTS_DIR, 'events-ca.pem')));
    expect(described.subjectDN).toBe(certificate.subject.split('\n').join(','));
    expect(described.issuerDN).toBe(ca.subject.split('\n').join(','));
    expect(String(described.serialNumber).replace(/:/g, '').toUpperCase()).toBe(certificate.serialNumber.toUpperCase());
  });
});
