/**
 * Traces of real requests through the local stack: the gateway's stage segment, the state machine's
 * execution segment with a subsegment per state and per Lambda attempt, the Lambda service segments, all
 * under the trace id the client gets back in X-Amzn-Trace-Id; and nothing sensitive in what is stored.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REFERENCE_FINDING } from '../../local/seed';
import type { SegmentDocument } from '../../local/xray/segment';
import { summarize, waterfall } from '../../local/xray/waterfall';
import { startTestStack, type TestStack } from '../support/local-stack';
import { completeTrace, rootOf } from '../support/traces';

let stack: TestStack;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vuln-api-traces-'));
  stack = await startTestStack({ traces: { dir } });
});

afterAll(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const store = () => {
  const tracing = stack.stack.backend.tracing;
  if (!tracing) throw new Error('tracing is off');
  return tracing.store;
};

const flatten = (documents: SegmentDocument[]): SegmentDocument[] =>
  documents.flatMap((document) => [
    document,
    ...flatten(
      (document.subsegments ?? []).map((child) => ({ ...child, parent_id: document.id, trace_id: document.trace_id })),
    ),
  ]);

describe('a POST through the workflow', () => {
  let documents: SegmentDocument[];
  let traceId: string;

  beforeAll(async () => {
    const answer = await stack.request(stack.pki.scanner, { method: 'POST', path: '/vuln', body: REFERENCE_FINDING });
    expect(answer.status).toBe(200);
    traceId = rootOf(answer.headers['x-amzn-trace-id']);
    // stage + execution + (Lambda service + function) x 4 tasks
    documents = flatten((await completeTrace(store(), traceId, 10)).documents);
  });

  it('returns the trace id as API Gateway does, Root and Sampled', () => {
    expect(traceId).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  });

  it('has the API stage segment with the fields API Gateway sends', () => {
    const stage = documents.find((document) => document.origin === 'AWS::ApiGateway::Stage');
    expect(stage).toMatchObject({
      name: 'local-vulnerability-api/v1',
      annotations: { 'aws:api_id': 'local', 'aws:api_stage': 'v1' },
      aws: { api_gateway: { account_id: '000000000000', rest_api_id: 'local', stage: 'v1' } },
      http: {
        request: { method: 'POST', url: 'https://localhost/vuln', client_ip: '127.0.0.1' },
        response: { status: 200 },
      },
    });
    expect(stage?.end_time).toBeGreaterThanOrEqual(stage?.start_time ?? Infinity);
  });

  it('joins the execution to the gateway: the state machine segment is the child of the integration subsegment', () => {
    const integration = documents.find((document) => document.name === 'STEPFUNCTIONS');
    const execution = documents.find((document) => document.origin === 'AWS::StepFunctions::StateMachine');
    expect(integration?.parent_id).toBe(documents.find((document) => document.origin === 'AWS::ApiGateway::Stage')?.id);
    expect(execution).toMatchObject({ name: 'IngestStateMachine', parent_id: integration?.id });
  });

  it('has each state with its outcome, and each Task attempt joined to the Lambda segments of that invocation', () => {
    const execution = documents.find((document) => document.origin === 'AWS::StepFunctions::StateMachine');
    const states = documents.filter((document) => document.parent_id === execution?.id);
    expect(states.map((state) => state.name)).toEqual([
      'Validate findings',
      'Is the request valid?',
      'Normalize findings',
      'Check authorization',
      'Write findings',
      'Answer success',
      'Send the answer',
    ]);
    expect(states.every((state) => state.error === undefined && state.end_time !== undefined)).toBe(true);
    for (const state of states.filter((candidate) => candidate.aws?.state_type === 'Task')) {
      const attempts = documents.filter((document) => document.parent_id === state.id);
      expect(attempts).toHaveLength(1);
      const service = documents.find(
        (document) => document.origin === 'AWS::Lambda' && document.parent_id === attempts[0]?.id,
      );
      const fn = documents.find(
        (document) => document.origin === 'AWS::Lambda::Function' && document.parent_id === service?.id,
      );
      expect(service?.name).toMatch(/Function$/);
      expect(fn?.name).toBe(service?.name);
    }
  });

  it("hangs each handler's own subsegment (Powertools Tracer, in the function's execution environment) under its function segment, with its annotations", async () => {
    // stage + execution + (Lambda service + function + the handler's subsegment) x 4 tasks
    const all = flatten((await completeTrace(store(), traceId, 14)).documents);
    const functions = all.filter((document) => document.origin === 'AWS::Lambda::Function');
    expect(functions.map((fn) => fn.name).sort()).toEqual([
      'AuthorizeFunction',
      'NormalizeFunction',
      'ValidateFunction',
      'WriteFunction',
    ]);
    for (const fn of functions) {
      expect(
        all.filter((document) => document.name === '## handler.handler' && document.parent_id === fn.id),
      ).toHaveLength(1);
    }
    const handlers = all.filter((document) => document.name === '## handler.handler');
    expect(handlers.map((handler) => handler.annotations)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ findingCount: 1 }),
        expect.objectContaining({ org: 'org1', principalOu: 'scanner' }),
      ]),
    );
  });

  it('reads as a waterfall: the stage first, every hop below it, durations set', () => {
    const rows = waterfall({ traceId, documents: store().get(traceId)?.documents ?? [] });
    expect(rows[0]).toMatchObject({ name: 'local-vulnerability-api/v1', depth: 0, offsetMs: 0 });
    expect(rows.map((row) => row.name)).toEqual(
      expect.arrayContaining(['STEPFUNCTIONS', 'IngestStateMachine', 'Validate findings', 'WriteFunction']),
    );
    expect(rows.every((row) => row.durationMs !== undefined && row.durationMs >= 0)).toBe(true);
    expect(summarize({ traceId, documents: store().get(traceId)?.documents ?? [] })).toMatchObject({
      method: 'POST',
      path: '/vuln',
      status: 200,
    });
  });
});

describe('a GET through the proxy integration', () => {
  it('has the stage segment, the Lambda integration subsegment and the function segments', async () => {
    const answer = await stack.request(stack.pki.dashboard, { path: '/vuln?org=org1' });
    expect(answer.status).toBe(200);
    const documents = flatten((await completeTrace(store(), rootOf(answer.headers['x-amzn-trace-id']), 3)).documents);
    const integration = documents.find((document) => document.name === 'Lambda' && document.namespace === 'aws');
    const service = documents.find((document) => document.origin === 'AWS::Lambda');
    expect(integration?.aws).toMatchObject({ operation: 'Invoke', function_name: 'GetFindingsFunction' });
    expect(service).toMatchObject({ name: 'GetFindingsFunction', parent_id: integration?.id });
    expect(documents.find((document) => document.origin === 'AWS::ApiGateway::Stage')?.http?.request?.url).toBe(
      'https://localhost/vuln?org=org1',
    );
  });
});

describe('errors and faults', () => {
  it('marks a 400 as an error on the stage, and shows the Choice routing it to the bad-request answer', async () => {
    const answer = await stack.request(stack.pki.scanner, {
      method: 'POST',
      path: '/vuln',
      body: { ...REFERENCE_FINDING, DueDate: '02-30-2024' },
    });
    expect(answer.status).toBe(400);
    const documents = flatten((await completeTrace(store(), rootOf(answer.headers['x-amzn-trace-id']), 4)).documents);
    expect(documents.find((document) => document.origin === 'AWS::ApiGateway::Stage')).toMatchObject({
      error: true,
      http: { response: { status: 400 } },
    });
    // An invalid request is the Validate function's answer, not its failure: the state succeeds and the Choice routes it.
    expect(documents.find((document) => document.name === 'Validate findings')?.error).toBeUndefined();
    const names = documents.map((document) => document.name);
    expect(names).toEqual(expect.arrayContaining(['Is the request valid?', 'Answer bad request']));
    expect(names).not.toContain('Normalize findings');
  });
});

describe('the trace header', () => {
  it('continues a valid incoming trace id, as API Gateway does', async () => {
    const root = '1-5759e988-bd862e3fe1be46a994272793';
    const answer = await stack.request(stack.pki.dashboard, {
      path: '/vuln?org=org2',
      headers: { 'X-Amzn-Trace-Id': `Root=${root};Parent=53995c3f42cd8ad8;Sampled=1` },
    });
    expect(rootOf(answer.headers['x-amzn-trace-id'])).toBe(root);
    const stage = (await completeTrace(store(), root, 3)).documents.find(
      (document) => document.origin === 'AWS::ApiGateway::Stage',
    );
    expect(stage?.parent_id).toBe('53995c3f42cd8ad8');
  });

  it('starts a new trace for a malformed one', async () => {
    const answer = await stack.request(stack.pki.dashboard, {
      path: '/vuln?org=org2',
      headers: { 'X-Amzn-Trace-Id': 'Root=<script>;Parent=x' },
    });
    const root = rootOf(answer.headers['x-amzn-trace-id']);
    expect(root).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(
      (await completeTrace(store(), root, 3)).documents.find((document) => document.origin === 'AWS::ApiGateway::Stage')
        ?.parent_id,
    ).toBeUndefined();
  });
});

describe('nothing sensitive is stored', () => {
  it('keeps no certificate, no request body and no finding field in any trace file', async () => {
    // Every request above waited for its trace to be complete; only finished files are read.
    const files = (await readdir(dir)).filter((file) => file.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    const stored = (await Promise.all(files.map((file) => readFile(join(dir, file), 'utf8')))).join('\n');
    expect(stored).toContain('local-vulnerability-api/v1');
    for (const secret of [
      '-----BEGIN',
      stack.pki.scanner.certPem.slice(40, 100),
      REFERENCE_FINDING.AssetName,
      REFERENCE_FINDING.PluginName,
      'AssetName',
      'PluginName',
      'certPem',
      'dashboard-01',
      'scanner-01',
    ]) {
      expect(stored).not.toContain(secret);
    }
    // A DER certificate in base64 starts with MII and runs on; a random request id may hold "MII" by chance.
    expect(stored).not.toMatch(/MII[A-Za-z0-9+/]{40,}/);
  });
});
