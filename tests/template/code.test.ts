/** Application-layer controls: throttling, concurrency, WAF, safe errors, validation, tracing, build. */
import { esbuildSourcemap, samBuiltTemplate } from '../../local/cloudformation/sam-build';
import {
  functionsAfterGlobals,
  isGetAtt,
  isRef,
  logicalIdsOfType,
  onlyIf,
  openApi,
  properties,
  readProjectFile,
  resource,
  subText,
  template,
  templateFiles,
} from './support';

interface WafRule {
  Name: string;
  Priority: number;
  Action?: unknown;
  OverrideAction?: unknown;
  Statement: Record<string, Record<string, unknown>>;
  VisibilityConfig: { CloudWatchMetricsEnabled: boolean; SampledRequestsEnabled: boolean };
}
const webAcl = () => properties('WebAcl');
const rules = () => webAcl().Rules as WafRule[];

test('CODE 1.1 the stage throttles every method from ThrottlingRateLimit and ThrottlingBurstLimit', () => {
  const settings = properties('VulnerabilityApi').MethodSettings as Record<string, unknown>[];
  const everyMethod = settings.find((setting) => setting.ResourcePath === '/*' && setting.HttpMethod === '*');
  expect(isRef(everyMethod?.ThrottlingRateLimit, 'ThrottlingRateLimit')).toBe(true);
  expect(isRef(everyMethod?.ThrottlingBurstLimit, 'ThrottlingBurstLimit')).toBe(true);
  for (const name of ['ThrottlingRateLimit', 'ThrottlingBurstLimit'])
    expect(template.Parameters?.[name]?.MinValue).toBe(1);
});

test('CODE 1.2 GET /vuln runs with reserved (and capped) concurrency from a parameter', () => {
  const concurrency = properties('GetFindingsFunction').ReservedConcurrentExecutions;
  expect(onlyIf(concurrency)).toBe('HasGetFindingsConcurrency');
  expect(isRef((concurrency as { 'Fn::If': unknown[] })['Fn::If'][1], 'GetFindingsReservedConcurrency')).toBe(true);
  expect(template.Parameters?.GetFindingsReservedConcurrency?.Default).toBeGreaterThan(0);
});

test('CODE 1.3 the default 4XX and 5XX gateway responses are fixed JSON that never carries internals', () => {
  const responses = openApi()['x-amazon-apigateway-gateway-responses'] as Record<
    string,
    { responseTemplates?: Record<string, string> }
  >;
  // API Gateway's own fixed message and the request id it generates are the only variables a client may see.
  const allowedVariables = new Set(['$context.extendedRequestId', '$context.error.messageString']);
  for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
    const body = responses[type]?.responseTemplates?.['application/json'];
    expect([type, typeof body]).toEqual([type, 'string']);
    const variables = (body as string).match(/\$[A-Za-z][\w.]*/g) ?? [];
    for (const variable of variables)
      expect([type, variable, allowedVariables.has(variable)]).toEqual([type, variable, true]);
    expect(body).not.toMatch(/#|\$input|\$util|validationErrorString|integration|stage|\$stageVariables/);
    const sample = (body as string)
      .replaceAll('$context.error.messageString', '"Forbidden"')
      .replaceAll('$context.extendedRequestId', 'id');
    expect(Object.keys(JSON.parse(sample) as object).sort()).toEqual(['message', 'requestId']);
  }
  expect(responses.DEFAULT_5XX?.responseTemplates?.['application/json']).toContain('"message":"Internal server error"');
});

test('CODE 1.4 every operation is validated by API Gateway before any integration runs', () => {
  const validators = openApi()['x-amazon-apigateway-request-validators'] as Record<
    string,
    { validateRequestParameters: boolean; validateRequestBody: boolean }
  >;
  const operations = Object.values(openApi().paths).flatMap((path) => Object.values(path));
  expect(operations.length).toBeGreaterThanOrEqual(2);
  for (const operation of operations) {
    const validator = validators[operation['x-amazon-apigateway-request-validator'] as string];
    expect(validator?.validateRequestParameters).toBe(true);
    if (operation.requestBody) expect(validator?.validateRequestBody).toBe(true);
  }
});

test('CODE 1.5 every function, the API stage and the state machine are traced with X-Ray', () => {
  for (const [fn, props] of functionsAfterGlobals()) expect([fn, props.Tracing]).toEqual([fn, 'Active']);
  expect(properties('VulnerabilityApi').TracingEnabled).toBe(true);
  expect(properties('IngestStateMachine').Tracing).toEqual({ Enabled: true });
});

test('CODE 1.6 every function is bundled by esbuild from the settings in its Metadata', () => {
  for (const fn of logicalIdsOfType('AWS::Serverless::Function')) {
    const metadata = resource(fn).Metadata as {
      BuildMethod?: string;
      BuildProperties?: { EntryPoints?: string[] };
    };
    expect([fn, metadata.BuildMethod]).toEqual([fn, 'esbuild']);
    expect(metadata.BuildProperties?.EntryPoints?.[0]).toMatch(/^functions\/[a-z-]+\/handler\.ts$/);
    expect(() => readProjectFile(metadata.BuildProperties?.EntryPoints?.[0] as string)).not.toThrow();
  }
});

test('CODE 1.16 no function pays for source maps at init: stack traces are never logged, the maps ship for symbolication', () => {
  // What `sam build` writes, not what we wrote: its esbuild step adds NODE_OPTIONS for `Sourcemap` (sam-build.ts).
  for (const [fn, props] of functionsAfterGlobals(samBuiltTemplate(template))) {
    const variables = (props.Environment as { Variables: Record<string, unknown> }).Variables;
    expect([fn, String(variables.NODE_OPTIONS ?? '')]).not.toEqual([
      fn,
      expect.stringContaining('--enable-source-maps'),
    ]);
    const buildProperties = resource(fn).Metadata?.BuildProperties as Record<string, unknown>;
    expect([fn, esbuildSourcemap(buildProperties)]).toEqual([fn, 'linked']);
  }
});

test('CODE 1.7 the template hard-codes no region, account id or partition', () => {
  const text = templateFiles.map((file) => readProjectFile(file)).join('\n');
  expect(text).not.toMatch(
    /\b(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov)-(east|west|north|south|central|northeast|southeast|northwest|southwest)-\d\b/,
  );
  expect(text).not.toMatch(/(?<![\d{])\d{12}(?![\d}])/);
  expect(text).not.toMatch(/arn:aws(-[a-z]+)?:/);
});

test('WAF 1.1 a regional web ACL runs the four AWS managed rule groups, blocking', () => {
  expect(webAcl().Scope).toBe('REGIONAL');
  expect(webAcl().DefaultAction).toEqual({ Allow: {} });
  const managed = rules().filter((rule) => rule.Statement.ManagedRuleGroupStatement);
  const names = managed.map((rule) => rule.Statement.ManagedRuleGroupStatement?.Name);
  expect(names).toEqual(
    expect.arrayContaining([
      'AWSManagedRulesCommonRuleSet',
      'AWSManagedRulesKnownBadInputsRuleSet',
      'AWSManagedRulesSQLiRuleSet',
      'AWSManagedRulesAmazonIpReputationList',
    ]),
  );
  // Blocking by default; WafManagedRulesAction=Count counts every group's matches instead (trying the rules first).
  expect(template.Parameters?.WafManagedRulesAction).toMatchObject({
    Default: 'Block',
    AllowedValues: ['Block', 'Count'],
  });
  expect(template.Conditions?.CountManagedRules).toEqual({ 'Fn::Equals': [{ Ref: 'WafManagedRulesAction' }, 'Count'] });
  for (const rule of managed) {
    expect([rule.Name, rule.OverrideAction]).toEqual([
      rule.Name,
      { 'Fn::If': ['CountManagedRules', { Count: {} }, { None: {} }] },
    ]);
    expect(rule.Statement.ManagedRuleGroupStatement?.VendorName).toBe('AWS');
    expect(rule.VisibilityConfig).toMatchObject({ CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true });
  }
  // Only the body-size rule of the common set is relaxed to Count (the size rule below owns body size).
  const common = managed.find(
    (rule) => rule.Statement.ManagedRuleGroupStatement?.Name === 'AWSManagedRulesCommonRuleSet',
  );
  expect(common?.Statement.ManagedRuleGroupStatement?.RuleActionOverrides).toEqual([
    { Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } },
  ]);
});

test('WAF 1.2 a rate-based rule blocks any single IP above WafRateLimitPerIp', () => {
  const rate = rules().find((rule) => rule.Statement.RateBasedStatement);
  expect(rate?.Statement.RateBasedStatement?.AggregateKeyType).toBe('IP');
  expect(isRef(rate?.Statement.RateBasedStatement?.Limit, 'WafRateLimitPerIp')).toBe(true);
  expect(rate?.Action).toMatchObject({ Block: { CustomResponse: { ResponseCode: 429 } } });
  expect(rate?.Priority).toBe(0);
});

test('WAF 1.3 a size rule matches bodies over 256 KB and every body WAF cannot read to the end', () => {
  const size = rules().find((rule) => rule.Statement.SizeConstraintStatement);
  const statement = size?.Statement.SizeConstraintStatement;
  expect(statement).toMatchObject({
    FieldToMatch: { Body: { OversizeHandling: 'MATCH' } },
    ComparisonOperator: 'GT',
    Size: 262144,
  });
  expect(onlyIf(size?.Action)).toBeUndefined();
  const [block, count] = (size?.Action as { 'Fn::If': [string, unknown, unknown] })['Fn::If'].slice(1);
  expect(block).toMatchObject({ Block: { CustomResponse: { ResponseCode: 413 } } });
  expect(count).toEqual({ Count: {} });
  expect(template.Parameters?.WafOversizeBodyAction?.Default).toBe('Block');
  expect(webAcl().AssociationConfig).toEqual({ RequestBody: { API_GATEWAY: { DefaultSizeInspectionLimit: 'KB_64' } } });
});

test('WAF 1.4 the web ACL is associated with the API stage before the custom domain serves it', () => {
  const association = resource('WebAclAssociation');
  expect(association.DependsOn).toBe('VulnerabilityApiStage');
  expect(subText(association.Properties?.ResourceArn)).toBe(
    'arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${VulnerabilityApi}/stages/${StageName}',
  );
  expect(isGetAtt(association.Properties?.WebACLArn, 'WebAcl', 'Arn')).toBe(true);
  expect(resource('ApiBasePathMapping').DependsOn).toEqual(expect.arrayContaining(['WebAclAssociation']));
});

test('WAF 1.5 WAF logs blocked and counted requests to an aws-waf-logs- log group', () => {
  const logging = properties('WafLogging');
  expect(isGetAtt(logging.ResourceArn, 'WebAcl', 'Arn')).toBe(true);
  const [destination] = logging.LogDestinationConfigs as unknown[];
  expect(subText(destination)).toBe(
    'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${WafLogGroup}',
  );
  expect(subText(properties('WafLogGroup').LogGroupName)).toMatch(/^aws-waf-logs-/);
  expect(JSON.stringify(logging.LoggingFilter)).toContain('BLOCK');
});
