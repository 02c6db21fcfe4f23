/** The triage route (issue 13): behind the stage's controls, invoking only its function, with its own least-privilege role. */
import {
  alarmMetrics,
  asList,
  isGetAtt,
  mentions,
  openApi,
  properties,
  readProjectFile,
  resource,
  subText,
} from './support';

interface Operation {
  'x-amazon-apigateway-request-validator'?: string;
  'x-amazon-apigateway-integration': { type: string; uri: unknown; timeoutInMillis: number };
  requestBody?: { required?: boolean; content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, unknown>;
}

const triage = () => openApi().paths['/vuln/triage']?.post as unknown as Operation;

test('TRIAGE 1.1 POST /vuln/triage validates its body against a request model and invokes only the triage function (permission scoped to POST /vuln/triage)', () => {
  const operation = triage();
  expect(operation['x-amazon-apigateway-request-validator']).toBe('body-and-params');
  expect(operation.requestBody?.required).toBe(true);
  expect(operation.requestBody?.content['application/json']?.schema.$ref).toBe('#/components/schemas/TriageRequest');
  const model = (openApi() as unknown as { components: { schemas: Record<string, { type?: string }> } }).components
    .schemas.TriageRequest;
  expect(model?.type).toBe('object');
  expect(Object.keys(operation.responses).sort()).toEqual(['200', '400', '403', '500', '503']);
  const integration = operation['x-amazon-apigateway-integration'];
  expect(integration.type).toBe('aws_proxy');
  expect(subText(integration.uri)).toContain('${TriageFindingsFunction.Arn}');
  expect(integration.timeoutInMillis).toBeLessThanOrEqual(29_000);
  const permission = properties('TriageFindingsApiPermission');
  expect(isGetAtt(permission.FunctionName, 'TriageFindingsFunction', 'Arn')).toBe(true);
  expect(permission.Principal).toBe('apigateway.amazonaws.com');
  expect(subText(permission.SourceArn)).toBe(
    'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${VulnerabilityApi}/${StageName}/POST/vuln/triage',
  );
});

test('TRIAGE 1.2 the triage route is behind the stage-wide controls: the resource policy, the throttle and the web ACL cover every path and method', () => {
  const api = properties('VulnerabilityApi');
  const statements = (api.Auth as { ResourcePolicy: { CustomStatements: { Resource: string }[] } }).ResourcePolicy
    .CustomStatements;
  expect(statements.length).toBeGreaterThanOrEqual(2);
  for (const statement of statements) expect(statement.Resource).toBe('execute-api:/*');
  const settings = asList(api.MethodSettings) as Record<string, unknown>[];
  expect(settings).toEqual([
    expect.objectContaining({ ResourcePath: '/*', HttpMethod: '*', ThrottlingRateLimit: expect.anything() }),
  ]);
  // The web ACL is associated with the whole stage, not with routes.
  const association = properties('WebAclAssociation');
  expect(subText(association.ResourceArn)).toMatch(/\/restapis\/\$\{VulnerabilityApi\}\/stages\/\$\{StageName\}$/);
  // Only the mTLS custom domain serves the API.
  expect(readProjectFile('api/openapi.yaml')).toMatch(/disableExecuteApiEndpoint: true/);
});

test('TRIAGE 1.3 the triage function has a role of its own: one conditional UpdateItem (and GetItem) on the findings table, GetItem on grants, its own log group, alarms on its errors and throttles', () => {
  const fn = properties('TriageFindingsFunction');
  expect(isGetAtt(fn.Role, 'TriageFindingsFunctionRole', 'Arn')).toBe(true);
  expect(resource('TriageFindingsFunctionRole').Type).toBe('AWS::IAM::Role');
  const policies = properties('TriageFindingsFunctionRole').Policies as {
    PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] };
  }[];
  const grants = policies
    .flatMap((policy) => policy.PolicyDocument.Statement)
    .flatMap((statement) =>
      asList(statement.Action).map((action) => {
        const target = ['FindingsTable', 'AuthzTable', 'TriageFindingsFunctionLogGroup', 'DataKey'].find((id) =>
          isGetAtt(statement.Resource, id, 'Arn'),
        );
        return `${String(action)} ${target ?? JSON.stringify(statement.Resource)}`;
      }),
    )
    .sort();
  expect(grants).toEqual([
    'dynamodb:GetItem AuthzTable',
    'dynamodb:GetItem FindingsTable',
    'dynamodb:UpdateItem FindingsTable',
    'kms:Decrypt DataKey',
    'logs:CreateLogStream TriageFindingsFunctionLogGroup',
    'logs:PutLogEvents TriageFindingsFunctionLogGroup',
    'xray:PutTelemetryRecords "*"',
    'xray:PutTraceSegments "*"',
  ]);
  const env = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
  expect(Object.keys(env).sort()).toEqual(['AUTHZ_TABLE_NAME', 'FINDINGS_TABLE_NAME', 'GRANT_CACHE_SECONDS']);
  const alarmed = alarmMetrics()
    .filter(
      (alarm) => alarm.namespace === 'AWS/Lambda' && mentions(alarm.dimensions.FunctionName, 'TriageFindingsFunction'),
    )
    .map((alarm) => alarm.metricName)
    .sort();
  expect(alarmed).toEqual(['Errors', 'Throttles']);
});
