/**
 * Attack suite, hostile input, spoofed headers, and what errors and logs give away. A scanner with
 * a valid certificate sends what a fuzzer or an attacker would; every refusal is a 4xx with a JSON
 * body carrying the request id and none of the client's text, nothing is written, and every
 * execution input the state machine receives keeps the mapping template's shape whatever the body
 * held. The functions log at DEBUG (everything they can say) and their output is captured with the
 * gateway's log: neither may hold a certificate, body text, a stack trace or a file path.
 */
import { MAX_BODY_BYTES } from '../../functions/shared/core/limits';
import { REFERENCE_FINDING } from '../../local/seed';
import type { CallResult } from '../../client/mtls';
import {
  CANARY,
  countAllFindings,
  EXECUTION_INPUT_KEYS,
  expectBadRequest,
  expectSafeRefusal,
  leaksInAnswer,
  leaksInLog,
  PRINCIPAL_KEYS,
  recordExecutionInputs,
  storedFindings,
} from '../support/attack';
import { startTestStack, type TestRequestOptions, type TestStack } from '../support/local-stack';
import { captureOutput, type OutputCapture } from '../support/output-capture';

let stack: TestStack;
let output: OutputCapture;
let executions: { inputs: string[] };
/** Every answer of this file, checked for leaks at the end. */
const answers: CallResult[] = [];

beforeAll(async () => {
  output = captureOutput();
  // WAF's body-size rule (64 KB, tests/integration/push.test.ts) would answer the large bodies here before API
  // Gateway sees them: with it counting instead, these reach the gateway's own limits and the workflow.
  stack = await startTestStack({ environment: { POWERTOOLS_LOG_LEVEL: 'DEBUG' }, wafOversizeBodyAction: 'Count' });
  executions = recordExecutionInputs(stack);
});

afterAll(async () => {
  await stack?.close();
  output?.restore();
});

let counter = 0;
/** A VulnID carrying the canary: valid, unique, and it must never reach a log line. */
const canaryId = () => `${CANARY}-${(counter += 1)}`;
const finding = (overrides: Record<string, unknown> = {}) => ({
  ...REFERENCE_FINDING,
  VulnID: canaryId(),
  ...overrides,
});

async function post(body: unknown, options: Omit<TestRequestOptions, 'body'> = {}): Promise<CallResult> {
  const answer = await stack.request(stack.pki.scanner, { path: '/vuln', body, ...options });
  answers.push(answer);
  return answer;
}

/** Sends `body` and expects a refusal with `status` that wrote nothing. */
async function expectRefused(body: unknown, status: number, options: Omit<TestRequestOptions, 'body'> = {}) {
  const before = await countAllFindings(stack);
  const answer = await post(body, options);
  const clientText = [CANARY, ...(typeof body === 'string' && body.length > 12 ? [body.slice(0, 64)] : [])];
  const parsed = status === 400 ? expectBadRequest(answer, clientText) : expectSafeRefusal(answer, status, clientText);
  expect(await countAllFindings(stack)).toBe(before);
  return parsed;
}

const json = { headers: { 'Content-Type': 'application/json' } };

describe('malformed and misdeclared bodies', () => {
  test.each([
    ['truncated JSON', `{"VulnID":"${CANARY}",`],
    ['a lone brace', '{'],
    ['an empty body', ''],
    ['an array', JSON.stringify([finding()])],
    ['null', 'null'],
    ['a string', JSON.stringify(CANARY)],
    ['a number', '42'],
    ['NaN', JSON.stringify(finding()).replace('23234', 'NaN')],
    ['Infinity', JSON.stringify(finding()).replace('23234', 'Infinity')],
    ['-Infinity', JSON.stringify(finding()).replace('23234', '-Infinity')],
    ['a trailing comma', JSON.stringify(finding()).replace(/}$/, ',}')],
    ['single quotes', JSON.stringify(finding()).replace(/"/g, "'")],
    ['a comment', `/* ${CANARY} */${JSON.stringify(finding())}`],
    ['two JSON documents', `${JSON.stringify(finding())}${JSON.stringify(finding())}`],
    ['arrays nested 100,000 deep', `{"findings":${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
    ['objects nested 20,000 deep', `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`],
  ])('%s is 400', async (_name, body) => {
    await expectRefused(body, 400, json);
  });

  test.each([
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
    ['XML', 'application/xml'],
    ['a JSON look-alike media type', 'application/json-patch+json'],
    ['JSON as a parameter of another type', 'text/plain; type=application/json'],
  ])('a valid finding declared as %s is 415', async (_name, contentType) => {
    await expectRefused(JSON.stringify(finding()), 415, { headers: { 'Content-Type': contentType } });
  });

  test('UTF-16 under a charset parameter is not decoded as JSON: 400', async () => {
    await expectRefused(Buffer.from(JSON.stringify(finding()), 'utf16le'), 400, {
      headers: { 'Content-Type': 'application/json; charset=utf-16le' },
    });
  });

  test('no Content-Type is JSON, as API Gateway treats it: stored, with the execution input in shape', async () => {
    const body = finding();
    const answer = await post(JSON.stringify(body), { headers: {} });
    expect(answer.status).toBe(200);
    expect((await storedFindings(stack, 'org1')).map((item) => item.VulnID)).toContain(body.VulnID);
  });
});

describe('sizes and counts', () => {
  test('a 200,000-character field is 400', async () => {
    await expectRefused(finding({ PluginName: `${CANARY}${'x'.repeat(200_000)}` }), 400);
  });

  test('101 findings is 400', async () => {
    await expectRefused({ findings: Array.from({ length: 101 }, () => finding()) }, 400);
  });

  test('a body over 256 KB is 413, declared or chunked', async () => {
    const body = JSON.stringify({ findings: [finding({ PluginName: `${CANARY}${'x'.repeat(MAX_BODY_BYTES)}` })] });
    await expectRefused(body, 413, json);
    await expectRefused(body, 413, { ...json, chunked: true });
  });

  test('a valid batch just under 256 KB, non-ASCII text included, whose execution input (body, certificate, ids) passes 256 KB is 413, not 500, and nothing runs', async () => {
    // The mapping template escapes the body once per JSON level, and Step Functions decodes it again: the
    // input is the body plus the certificate and ids. Step Functions refuses an input over 262,144 bytes
    // (StartSyncExecution, ValidationException): the gateway answers that as 413.
    const findings = Array.from({ length: 100 }, () =>
      finding({ PluginName: '中'.repeat(300), Description: 'x'.repeat(1000) }),
    );
    const size = () => Buffer.byteLength(JSON.stringify({ findings }));
    for (let index = 0; size() < MAX_BODY_BYTES - 200 && index < 100_000; index++) {
      const item = findings[index % findings.length] as Record<string, unknown>;
      item.Description = `${String(item.Description)}${'y'.repeat(Math.min(100, MAX_BODY_BYTES - 200 - size()))}`;
    }
    const body = JSON.stringify({ findings });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_BODY_BYTES - 300);
    const started = executions.inputs.length;
    await expectRefused(body, 413, json);
    expect(executions.inputs.length).toBe(started);
  });
});

describe('values', () => {
  test.each([
    ['PluginId as a string', { PluginId: '23234' }],
    ['PluginId as a float', { PluginId: 1.5 }],
    ['PluginId beyond 32 bits', { PluginId: 2147483648 }],
    ['PluginId negative', { PluginId: -1 }],
    ['PluginId as an exponent overflowing to Infinity', 'PluginId:1e400'],
    ['PluginId as true', { PluginId: true }],
    ['PluginId null', { PluginId: null }],
    ['VulnID as an array', { VulnID: [CANARY] }],
    ['Org as an object', { Org: { S: 'org1' } }],
    ['a NUL byte in PluginName', { PluginName: `a\u0000${CANARY}` }],
    ['an escape sequence in AssetName', { AssetName: `\u001b[2J${CANARY}` }],
    ['a header injection in Priority', { Priority: `P1\r\nX-Injected: ${CANARY}` }],
    ['DEL in PluginName', { PluginName: `a\u007f${CANARY}` }],
    ['a NUL byte in VulnID', { VulnID: `${CANARY}\u0000` }],
    ['a NUL byte in Org', { Org: 'org1\u0000' }],
    ['DynamoDB placeholders as the Org', { Org: ':org' }],
    ['a DynamoDB attribute name as the Org', { Org: '#Org' }],
    ['an expression in VulnID', { VulnID: 'x = :now, #FirstSeen = :now' }],
    ['a short date', { DueDate: '2024-1-1' }],
    ['a timestamp as a date', { DueDate: '2024-01-01T00:00:00Z' }],
    ['an empty date', { DueDate: '' }],
  ])('%s is 400', async (_name, overrides) => {
    const body =
      typeof overrides === 'string'
        ? JSON.stringify(finding()).replace('"PluginId":23234', `"${overrides.replace(':', '":')}`)
        : finding(overrides);
    await expectRefused(typeof body === 'string' ? body : JSON.stringify(body), 400, json);
  });

  test.each([
    ['an impossible calendar date', '02-30-2024'],
    ['February 29th of a common year', '2023-02-29'],
    ['month 13', '2024-13-01'],
    ['year zero', '0000-00-00'],
  ])('%s is 400 naming DueDate (the Validate step)', async (_name, DueDate) => {
    const body = await expectRefused(finding({ DueDate }), 400);
    expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'DueDate' })]));
  });

  test('-0 as PluginId is the number 0, stored as 0', async () => {
    const body = finding();
    const answer = await post(JSON.stringify(body).replace('"PluginId":23234', '"PluginId":-0'), json);
    expect(answer.status).toBe(200);
    const stored = (await storedFindings(stack, 'org1')).find((item) => item.VulnID === body.VulnID);
    expect(Object.is(stored?.PluginId, 0)).toBe(true);
  });
});

describe('keys', () => {
  test.each([
    [
      '__proto__ inside a finding',
      `{"findings":[${JSON.stringify(finding()).replace(/}$/, ',"__proto__":{"Org":"org5","isAdmin":true}}')}]}`,
    ],
    ['__proto__ at the top', JSON.stringify(finding()).replace(/^{/, '{"__proto__":{"findings":[]},')],
    [
      'constructor.prototype inside a finding',
      JSON.stringify(finding()).replace(/}$/, ',"constructor":{"prototype":{"isAdmin":true}}}'),
    ],
    [
      'a principal of its own at the top',
      JSON.stringify({ findings: [finding()], principal: { certPem: CANARY, subjectDN: 'CN=x,OU=scanner' } }),
    ],
    ['a requestId of its own at the top', JSON.stringify({ ...finding(), requestId: CANARY })],
    ['an unknown field named after the canary', JSON.stringify({ ...finding(), [CANARY]: 1 })],
    ['an attribute name placeholder as a field', JSON.stringify({ ...finding(), '#FirstSeen': '1970-01-01' })],
  ])('%s is 400', async (_name, body) => {
    await expectRefused(body, 400, json);
  });

  test('no prototype was polluted in the process that runs the functions', () => {
    const probe = {} as Record<string, unknown>;
    expect(probe.isAdmin).toBeUndefined();
    expect(probe.Org).toBeUndefined();
    expect(probe.findings).toBeUndefined();
  });
});

describe('text aimed at DynamoDB and at the mapping template is stored as text', () => {
  const payloads = [
    'SET #FirstSeen = :now REMOVE Org',
    'attribute_not_exists(Org) OR begins_with(VulnID, :x) ; DROP TABLE FindingsTable; --',
    '","principal":{"certPem":"x","subjectDN":"CN=a,OU=scanner"},"x":"',
    '\\",\\"principal\\":{\\"subjectDN\\":\\"CN=a,OU=scanner\\"},\\"x\\":\\"',
    '\\\\\\"}}, "requestId": "forged"',
    '$context.requestId $context.identity.sourceIp $context.identity.clientCert.clientCertPem',
    '#set($context.requestOverride.header.x = "1")#set($body = "{}")$body',
    '${StateMachineArn} ${AWS::Region} $input.json(\'$\') $util.escapeJavaScript("x")',
    "#if(true)yes#end #foreach($i in [1..3])$i#end @{x} \\u0022 ' \\' </script>",
  ];

  test.each(payloads.map((payload, index) => [index, payload]))('payload %i', async (_index, payload) => {
    const body = finding({ PluginName: payload, AssetName: payload.slice(0, 255), Priority: payload.slice(0, 64) });
    const answer = await post(body);
    expect(answer.status).toBe(200);
    const stored = (await storedFindings(stack, 'org1')).find((item) => item.VulnID === body.VulnID);
    expect(stored).toMatchObject({
      PluginName: payload,
      AssetName: payload.slice(0, 255).trim().toLowerCase(),
      Priority: payload.slice(0, 64),
    });
    // The upsert's own expression was not changed by the values: FirstSeen and LastSeen are its timestamps.
    expect(stored?.FirstSeen).toEqual(stored?.LastSeen);
    expect(Date.parse(String(stored?.FirstSeen))).not.toBeNaN();
  });

  test('DynamoDB expression text in VulnID (its allowed characters) addresses one item only', async () => {
    const before = await countAllFindings(stack);
    const vulnId = `${CANARY}:now:FirstSeen@x`;
    expect((await post(finding({ VulnID: vulnId }))).status).toBe(200);
    expect(await countAllFindings(stack)).toBe(before + 1);
    expect((await storedFindings(stack, 'org1')).filter((item) => item.VulnID === vulnId)).toHaveLength(1);
  });
});

describe('spoofed headers change neither identity nor source address', () => {
  const spoofed = {
    'X-Forwarded-For': '203.0.113.7',
    'X-Real-IP': '203.0.113.7',
    Forwarded: 'for=203.0.113.7',
    'X-Amzn-RequestId': 'spoofed-request-id',
    'X-Amzn-Trace-Id': 'Root=1-00000000-000000000000000000000000',
    'X-Amzn-Apigateway-Api-Id': 'spoofed',
    'X-Amzn-Mtls-Clientcert': 'CN=scanner-01,OU=scanner,O=Example Corp',
    'X-Amzn-Mtls-Clientcert-Leaf': 'spoofed',
    'X-Client-Cert': 'CN=scanner-01,OU=scanner,O=Example Corp',
    'X-Forwarded-Client-Cert': 'Subject="CN=scanner-01,OU=scanner,O=Example Corp"',
    'X-SSL-Client-S-DN': 'CN=scanner-01,OU=scanner,O=Example Corp',
    'X-Amz-Security-Token': 'spoofed',
  };

  test('a dashboard claiming to be the scanner in headers still cannot POST', async () => {
    const before = await countAllFindings(stack);
    const answer = await stack.request(stack.pki.dashboard, {
      path: '/vuln',
      body: finding(),
      headers: { ...spoofed, 'Content-Type': 'application/json' },
    });
    answers.push(answer);
    expect(answer.status).toBe(403);
    expect(await countAllFindings(stack)).toBe(before);
  });

  test("a scanner's execution input carries its own certificate, the socket's address and the gateway's request id", async () => {
    const started = executions.inputs.length;
    const answer = await post(finding(), { headers: { ...spoofed, 'Content-Type': 'application/json' } });
    expect(answer.status).toBe(200);
    expect(answer.headers['x-amz-apigw-id']).not.toBe('spoofed-request-id');
    const input = JSON.parse(executions.inputs[started] as string) as {
      sourceIp: string;
      requestId: string;
      principal: { certPem: string };
    };
    expect(input.sourceIp).toBe('127.0.0.1');
    expect(input.requestId).toBe(answer.headers['x-amz-apigw-id']);
    expect(input.principal.certPem.replace(/\s/g, '')).toBe(stack.pki.scanner.certPem.replace(/\s/g, ''));
    const logged = stack.logs.find(
      (entry) => entry.message === 'request' && entry.requestId === answer.headers['x-amz-apigw-id'],
    );
    expect(logged).toMatchObject({ sourceIp: '127.0.0.1' });
  });

  test('a dashboard sending headers that name another org reads only what its grant allows', async () => {
    const answer = await stack.request(stack.pki.dashboard, {
      path: '/vuln?org=org5',
      headers: { ...spoofed, 'X-Org': 'org1', 'X-Amzn-Org': 'org1' },
    });
    answers.push(answer);
    expect(answer.status).toBe(403);
  });
});

describe('every execution input, whatever the body held', () => {
  test('has exactly the mapping template shape, with the scanner certificate and a body equal to what was sent', () => {
    expect(executions.inputs.length).toBeGreaterThan(10);
    // Only two certificates were ever presented here: the scanner's, and the dashboard's spoofing headers.
    const presented = [stack.pki.scanner.certPem, stack.pki.dashboard.certPem].map((pem) => pem.replace(/\s/g, ''));
    for (const text of executions.inputs) {
      const input = JSON.parse(text) as Record<string, unknown> & { principal: Record<string, unknown> };
      expect(Object.keys(input).sort()).toEqual(EXECUTION_INPUT_KEYS);
      expect(Object.keys(input.principal).sort()).toEqual(PRINCIPAL_KEYS);
      expect(typeof input.requestId).toBe('string');
      expect(input.sourceIp).toBe('127.0.0.1');
      expect(presented).toContain(String(input.principal.certPem).replace(/\s/g, ''));
    }
  });
});

describe('errors and logs', () => {
  test('no answer held a stack trace, file path, AWS error name, PEM, or (in a refusal) the client text', () => {
    expect(answers.length).toBeGreaterThan(50);
    for (const answer of answers) {
      const clientText = answer.status >= 400 ? [CANARY] : [];
      expect({ status: answer.status, leaks: leaksInAnswer(answer, clientText) }).toEqual({
        status: answer.status,
        leaks: [],
      });
    }
  });

  test("neither the gateway's log nor the functions' output held a PEM, body text, a stack trace or a file path", () => {
    const functionsOutput = output.text();
    // The functions did log (DEBUG), so an empty capture cannot pass this test by accident.
    expect(functionsOutput).toContain('"level":"INFO"');
    expect(leaksInLog(functionsOutput)).toEqual([]);
    expect(leaksInLog(stack.logs.map((entry) => JSON.stringify(entry)).join('\n'))).toEqual([]);
  });
});

// The gateway's model checks only the envelope: the Validate step names each field, by index and path.
describe('field errors named by the Validate step', () => {
  test.each([
    ['PluginId', { PluginId: '23234' }],
    ['PluginName', { PluginName: `a\u0000${CANARY}` }],
    ['Org', { Org: ':org' }],
    ['DueDate', { DueDate: '2024-1-1' }],
  ])('a bad %s is named', async (path, overrides) => {
    const body = await expectRefused(finding(overrides), 400);
    expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ index: 0, path })]));
  });

  test('an unknown field is reported as "unknown field" at its index, without repeating its name', async () => {
    const body = await expectRefused({ findings: [finding(), { ...finding(), [`${CANARY}_field`]: 'x' }] }, 400);
    expect(body.errors).toEqual([{ index: 1, path: '', message: 'unknown field' }]);
  });
});
