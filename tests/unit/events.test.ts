/**
 * Every file in events/ runs through its target, so each `sam local invoke` example is known to
 * work: `<name>.json` goes to the function whose esbuild entry point is functions/<name>/handler.ts
 * (invoked Lambda-style, resolved from template.yaml), `ingest-execution.json` to the ingestion state
 * machine. DynamoDB is mocked; the OU of each event's certificate is granted what the event does.
 */
import { QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { EVENTS_DIR, EXAMPLE_FINDINGS, EXAMPLE_SCAN_FINDING } from '../support/events';
import { identityFromPem } from '../../functions/shared/core/identity';
import { normalizeFinding } from '../../functions/shared/core/normalize';
import { localFunctionArn, localStateMachineArn } from '../../local/aws-local';
import { LocalResolver } from '../../local/cloudformation/intrinsics';
import { createLocalFunctions, functionDefinitions, type LocalFunctions } from '../../local/lambda/invoker';
import { createLocalStateMachine, type LocalStateMachine } from '../../local/stepfunctions/state-machine';
import { loadTemplate, PROJECT_ROOT, resourcesOfType } from '../../local/cloudformation/template';
import { AUTHZ_TABLE, captureLogs, dynamoDb, FINDINGS_TABLE, mockAuthzTable, mockPageTokenSecret, PAGE_TOKEN_SECRET_ARN, secretsManager, setHandlerEnvironment, type CapturedLogs } from '../support/lambda';

setHandlerEnvironment();

const INGEST_STATE_MACHINE = 'IngestStateMachine';
const EXECUTION_EVENT = 'ingest-execution.json';
const NORMALIZED = EXAMPLE_FINDINGS.map(normalizeFinding);
const STORED = { ...normalizeFinding(EXAMPLE_SCAN_FINDING), FirstSeen: '2025-01-01T00:00:00.000Z', LastSeen: '2025-01-02T00:00:00.000Z' };

const eventFiles = readdirSync(EVENTS_DIR)
  .filter((name) => name.endsWith('.json'))
  .sort();
const readEvent = (name: string) => JSON.parse(readFileSync(resolve(EVENTS_DIR, name), 'utf8')) as Record<string, unknown>;

let functions: LocalFunctions;
let stateMachine: LocalStateMachine;
/** Events file name → function logical id, from the template's esbuild entry points. */
const functionForFile = new Map<string, string>();
let logs: CapturedLogs;

beforeAll(() => {
  const template = loadTemplate();
  const functionIds = resourcesOfType(template, 'AWS::Serverless::Function').map(([logicalId]) => logicalId);
  const resolver = new LocalResolver(template, {
    refs: { FindingsTable: FINDINGS_TABLE, AuthzTable: AUTHZ_TABLE, PageTokenSecret: PAGE_TOKEN_SECRET_ARN, ...Object.fromEntries(functionIds.map((id) => [id, id])) },
    attributes: {
      ...Object.fromEntries(functionIds.map((id) => [`${id}.Arn`, localFunctionArn(id)])),
      [`${INGEST_STATE_MACHINE}.Arn`]: localStateMachineArn(INGEST_STATE_MACHINE),
    },
  });
  functions = createLocalFunctions(functionDefinitions(template, resolver), { GRANT_CACHE_SECONDS: '0' });
  stateMachine = createLocalStateMachine(INGEST_STATE_MACHINE, template, resolver, functions, { retryIntervalMs: 0 });
  for (const definition of functions.definitions) {
    const match = /^functions\/([a-z0-9-]+)\/handler\.ts$/.exec(relative(PROJECT_ROOT, definition.entryPoint));
    if (match) functionForFile.set(`${match[1]}.json`, definition.logicalId);
  }
});

beforeEach(() => {
  dynamoDb.reset();
  secretsManager.reset();
  mockPageTokenSecret();
  dynamoDb.on(UpdateItemCommand).resolves({});
  dynamoDb.on(QueryCommand).resolves({ Items: [marshall(STORED)] });
  logs = captureLogs();
});
afterEach(() => logs.restore());

/** The client certificate an event carries, wherever its shape keeps it. */
function certificateOf(event: Record<string, unknown>): string | undefined {
  const principal = event.principal as { certPem?: string } | undefined;
  const requestContext = event.requestContext as { identity?: { clientCert?: { clientCertPem?: string } } } | undefined;
  return principal?.certPem ?? requestContext?.identity?.clientCert?.clientCertPem;
}

/** Grants the OU of the event's certificate what the event does, on the org it names. */
function grantEventCertificate(event: Record<string, unknown>, method: 'GET' | 'POST') {
  const certPem = certificateOf(event);
  if (certPem === undefined) return mockAuthzTable({});
  const [ou] = identityFromPem(certPem).organizationalUnits;
  return mockAuthzTable({ grants: { [ou ?? '']: { methods: [method], orgs: ['org1'] } } });
}

type Expectation = (event: Record<string, unknown>) => Promise<void>;

const invoke = (name: string, event: unknown) => functions.invoke(functionForFile.get(name) ?? '', event);

const expectations: Record<string, Expectation> = {
  'validate.json': async (event) => {
    expect(await invoke('validate.json', event)).toEqual({ valid: true, findings: (event.body as { findings: unknown[] }).findings });
  },
  'normalize.json': async (event) => {
    expect(await invoke('normalize.json', event)).toEqual(NORMALIZED);
  },
  'authorize.json': async (event) => {
    grantEventCertificate(event, 'POST');
    expect(await invoke('authorize.json', event)).toEqual({ allowed: true, ou: 'scanner' });
  },
  'write.json': async (event) => {
    expect(await invoke('write.json', event)).toEqual({ accepted: 2, created: 2, updated: 0, requestId: event.requestId });
    expect(dynamoDb.commandCalls(UpdateItemCommand)).toHaveLength(2);
  },
  'get-findings.json': async (event) => {
    grantEventCertificate(event, 'GET');
    const response = (await invoke('get-findings.json', event)) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ org: 'org1', items: [STORED], count: 1 });
  },
  [EXECUTION_EVENT]: async (event) => {
    grantEventCertificate(event, 'POST');
    const result = await stateMachine.startSyncExecution(JSON.stringify(event));
    expect(result.status).toBe('SUCCEEDED');
    const output = JSON.parse(result.output ?? '{}') as { statusCode: number; body: string };
    expect(output.statusCode).toBe(200);
    expect(JSON.parse(output.body)).toEqual({ message: 'Post vulnerability succeeded', accepted: 2, created: 2, updated: 0, requestId: event.requestId });
    expect(dynamoDb.commandCalls(UpdateItemCommand)).toHaveLength(2);
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
    await expectation(readEvent(name));
    expect(logs.text()).not.toContain('BEGIN CERTIFICATE');
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
    for (const name of ['authorize.json', EXECUTION_EVENT]) expect([name, readEvent(name).principal]).toEqual([name, { certPem: certificateOf(readEvent(name)) }]);
  });

  it('describes the GET certificate as API Gateway does', () => {
    const event = readEvent('get-findings.json');
    const described = (event.requestContext as { identity: { clientCert: Record<string, unknown> } }).identity.clientCert;
    const certificate = new X509Certificate(certificateOf(event) ?? '');
    const ca = new X509Certificate(readFileSync(resolve(EVENTS_DIR, 'events-ca.pem')));
    expect(described.subjectDN).toBe(certificate.subject.split('\n').join(','));
    expect(described.issuerDN).toBe(ca.subject.split('\n').join(','));
    expect(String(described.serialNumber).replace(/:/g, '').toUpperCase()).toBe(certificate.serialNumber.toUpperCase());
  });
});
