/** Template parameters take overrides the way `sam local start-api` takes them, and what derives from them follows. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkParameterOverrides, parseParameterOverrides } from '../../local/cloudformation/parameters';
import { loadTemplate } from '../../local/cloudformation/template';
import { LocalResolver } from '../../local/cloudformation/intrinsics';
import { functionDefinitions } from '../../local/lambda/invoker';
import { startOptions } from '../../local/start-options';
import { startTestStack } from '../support/local-stack';

describe('SAM CLI formats', () => {
  test('Key=Value pairs, quoted values, the long form, lists and tables', () => {
    expect(parseParameterOverrides(`ThrottlingRateLimit=1000 StageName="v 2" LogLevel='DEBUG'`)).toEqual({
      ThrottlingRateLimit: '1000',
      StageName: 'v 2',
      LogLevel: 'DEBUG',
    });
    expect(parseParameterOverrides('ParameterKey=A,ParameterValue=1 ParameterKey=B,ParameterValue="x y"')).toEqual({
      A: '1',
      B: 'x y',
    });
    expect(parseParameterOverrides(['A=1', 'B=2'])).toEqual({ A: '1', B: '2' });
    expect(parseParameterOverrides({ A: 1, B: ['x', 'y'] })).toEqual({ A: '1', B: 'x,y' });
    expect(() => parseParameterOverrides('no pairs here')).toThrow(/Key=Value/);
  });

  test('values are checked against the parameter declarations', () => {
    const template = loadTemplate();
    expect(checkParameterOverrides(template, { ThrottlingRateLimit: '5000' })).toEqual({ ThrottlingRateLimit: '5000' });
    expect(() => checkParameterOverrides(template, { NoSuchParameter: '1' })).toThrow(/declares no such parameter/);
    expect(() => checkParameterOverrides(template, { ThrottlingRateLimit: 'fast' })).toThrow(/not a number/);
    expect(() => checkParameterOverrides(template, { ThrottlingRateLimit: '0' })).toThrow(/MinValue/);
    expect(() => checkParameterOverrides(template, { LogLevel: 'LOUD' })).toThrow(/not one of/);
  });
});

describe('npm start options', () => {
  const directory = mkdtempSync(join(tmpdir(), 'samconfig-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  writeFileSync(
    join(directory, 'samconfig.toml'),
    [
      'version = 0.1',
      '[default.global.parameters]',
      'parameter_overrides = "LogLevel=WARN GrantCacheSeconds=10"',
      '[default.local_start_api.parameters]',
      'parameter_overrides = "ThrottlingRateLimit=2000 ThrottlingBurstLimit=3000 GrantCacheSeconds=20"',
      '[other.local_start_api.parameters]',
      'parameter_overrides = ["ThrottlingRateLimit=7"]',
    ].join('\n'),
  );

  test('samconfig.toml: the command table over the global one; the command line over both', () => {
    expect(startOptions([], directory).parameterOverrides).toEqual({
      LogLevel: 'WARN',
      GrantCacheSeconds: '20',
      ThrottlingRateLimit: '2000',
      ThrottlingBurstLimit: '3000',
    });
    expect(
      startOptions(['--parameter-overrides', 'ThrottlingRateLimit=9', 'LogLevel=ERROR'], directory).parameterOverrides,
    ).toMatchObject({ ThrottlingRateLimit: '9', LogLevel: 'ERROR', GrantCacheSeconds: '20' });
    expect(startOptions(['--config-env', 'other'], directory).parameterOverrides).toEqual({ ThrottlingRateLimit: '7' });
    expect(startOptions(['--config-file', 'missing.toml'], directory).parameterOverrides).toEqual({});
    expect(() => startOptions(['ThrottlingRateLimit=9'], directory)).toThrow(/--parameter-overrides/);
  });
});

test("the functions' environment and concurrency follow the parameters", () => {
  const template = loadTemplate();
  const definitions = (refs: Record<string, string>) =>
    functionDefinitions(
      template,
      new LocalResolver(template, {
        refs: {
          FindingsTable: 'F',
          AuthzTable: 'A',
          ScanRunsTable: 'R',
          FindingHistoryTable: 'H',
          OrgSummaryTable: 'O',
          PageTokenSecret: 'S',
          ...refs,
        },
        attributes: {},
      }),
    );
  const overridden = definitions({ GrantCacheSeconds: '7', LogLevel: 'DEBUG', GetFindingsReservedConcurrency: '3' });
  expect(overridden.find((item) => item.logicalId === 'AuthorizeFunction')?.environment).toMatchObject({
    GRANT_CACHE_SECONDS: '7',
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
  });
  expect(overridden.find((item) => item.logicalId === 'GetFindingsFunction')?.reservedConcurrency).toBe(3);
  // 0 means "no reservation" in the template (the condition leaves the property out).
  expect(
    definitions({ GetFindingsReservedConcurrency: '0' }).find((item) => item.logicalId === 'GetFindingsFunction')
      ?.reservedConcurrency,
  ).toBeUndefined();
});

test('the stage throttle follows ThrottlingBurstLimit given as a parameter override', async () => {
  const stack = await startTestStack({ parameterOverrides: { ThrottlingRateLimit: '1', ThrottlingBurstLimit: '1' } });
  try {
    // An empty batch is refused by the request validator, after throttling and before any function runs.
    const post = () => stack.request(stack.pki.scanner, { path: '/vuln', body: { findings: [] } });
    expect((await post()).status).toBe(400);
    expect((await post()).status).toBe(429);
  } finally {
    await stack.close();
  }
});

test("the stack id's first UUID part resolves as CloudFormation gives it (Fn::Split, Fn::Select, AWS::StackId)", () => {
  const resolver = new LocalResolver(loadTemplate(), { refs: {}, attributes: {} });
  const stackIdPart = {
    'Fn::Select': [0, { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] }],
  };
  expect(resolver.resolve({ 'Fn::Sub': ['trail/vuln-api-trail-${StackId}', { StackId: stackIdPart }] })).toMatch(
    /^trail\/vuln-api-trail-[0-9a-f]{8}$/,
  );
});
