/** Monitoring controls: alarms to an encrypted topic, dashboard, tracing groups, budget. */
import {
  actionsOf,
  alarmMetrics,
  conditionValues,
  isRef,
  logicalIdsOfType,
  mentions,
  properties,
  resource,
  statementsOwnedBy,
  subText,
  template,
  type AlarmMetric,
} from './support';

const watched = (namespace: string, metricName: string, dimension: string, target: string): AlarmMetric[] =>
  alarmMetrics().filter(
    (metric) =>
      metric.namespace === namespace &&
      metric.metricName === metricName &&
      mentions(metric.dimensions[dimension], target),
  );

test('MON 1.1 an alarm watches every failure signal and notifies the alarm topic', () => {
  const expected: [string, string, string, string][] = [
    ['AWS/ApiGateway', '5XXError', 'ApiName', 'AWS::StackName'],
    ['AWS/ApiGateway', '4XXError', 'ApiName', 'AWS::StackName'],
    // WAF's WebACL dimension is the web ACL's metric name ("AWS WAF metrics and dimensions", AWS WAF Developer Guide).
    ['AWS/WAFV2', 'BlockedRequests', 'WebACL', 'WebAcl.VisibilityConfig.MetricName'],
  ];
  for (const machine of logicalIdsOfType('AWS::Serverless::StateMachine')) {
    expected.push(
      ['AWS/States', 'ExecutionsFailed', 'StateMachineArn', machine],
      ['AWS/States', 'ExecutionsTimedOut', 'StateMachineArn', machine],
    );
  }
  for (const fn of logicalIdsOfType('AWS::Serverless::Function')) {
    expected.push(['AWS/Lambda', 'Errors', 'FunctionName', fn], ['AWS/Lambda', 'Throttles', 'FunctionName', fn]);
  }
  for (const table of logicalIdsOfType('AWS::DynamoDB::Table')) {
    for (const metric of ['ThrottledRequests', 'ReadThrottleEvents', 'WriteThrottleEvents'])
      expected.push(['AWS/DynamoDB', metric, 'TableName', table]);
  }
  for (const [namespace, metricName, dimension, target] of expected) {
    const found =
      target === 'AWS::StackName'
        ? alarmMetrics().filter(
            (m) =>
              m.namespace === namespace &&
              m.metricName === metricName &&
              (subText(m.dimensions[dimension]) ?? '').startsWith('${AWS::StackName}-'),
          )
        : target === 'WebAcl.VisibilityConfig.MetricName'
          ? alarmMetrics().filter(
              (m) =>
                m.namespace === namespace &&
                m.metricName === metricName &&
                JSON.stringify(m.dimensions[dimension]) ===
                  JSON.stringify((properties('WebAcl').VisibilityConfig as { MetricName: unknown }).MetricName),
            )
          : watched(namespace, metricName, dimension, target);
    expect([metricName, target, found.length > 0]).toEqual([metricName, target, true]);
  }
  // The API alarms watch the API this stack names, on its stage.
  expect(subText(properties('VulnerabilityApi').Name)).toBe('${AWS::StackName}-vulnerability-api');
  for (const metric of alarmMetrics().filter((m) => m.namespace === 'AWS/ApiGateway')) {
    expect(subText(metric.dimensions.ApiName)).toBe('${AWS::StackName}-vulnerability-api');
    expect(isRef(metric.dimensions.Stage, 'StageName')).toBe(true);
  }
  // The web ACL's name and metric name are one value, new per stack (names.test.ts: at most 128 characters).
  expect(properties('WebAcl').Name).toEqual(
    (properties('WebAcl').VisibilityConfig as { MetricName: unknown }).MetricName,
  );
  expect(subText(properties('WebAcl').Name)).toBe('vuln-api-${StackId}');

  for (const alarm of logicalIdsOfType('AWS::CloudWatch::Alarm')) {
    const props = properties(alarm);
    expect([alarm, (props.AlarmActions as unknown[]).some((action) => isRef(action, 'AlarmTopic'))]).toEqual([
      alarm,
      true,
    ]);
    expect([alarm, props.TreatMissingData]).toEqual([alarm, 'notBreaching']);
  }
});

test("MON 1.2 the alarm topic accepts only this account's alarms (and budget), over TLS, with an optional e-mail subscription", () => {
  const statements = statementsOwnedBy('AlarmTopicPolicy');
  const tls = statements.find(
    (s) => s.Effect === 'Deny' && s.Principal === '*' && actionsOf(s).includes('sns:Publish'),
  );
  expect(conditionValues(tls ?? { Effect: 'Deny' }, 'Bool', 'aws:SecureTransport')).toEqual(['false']);
  for (const allow of statements.filter((s) => s.Effect === 'Allow')) {
    expect(actionsOf(allow)).toEqual(['sns:Publish']);
    expect(allow.Condition).toBeDefined();
    expect(JSON.stringify(allow.Condition)).toContain('AWS::AccountId');
  }
  const subscription = resource('AlarmEmailSubscription');
  expect(subscription.Condition).toBe('HasAlarmEmail');
  expect(subscription.Properties).toMatchObject({ Protocol: 'email' });
  expect(isRef(subscription.Properties?.Endpoint, 'AlarmEmail')).toBe(true);
  expect(template.Parameters?.AlarmEmail?.Default).toBe('');
});

test('MON 1.3 a dashboard shows the API, the workflow, the functions, the tables and WAF', () => {
  expect(logicalIdsOfType('AWS::CloudWatch::Dashboard')).toEqual(['Dashboard']);
  const body = properties('Dashboard').DashboardBody as { 'Fn::Sub': [string, object] };
  const text = body['Fn::Sub'][0];
  const rendered = text.replace(/\$\{[^}]+\}/g, 'x');
  const widgets = (JSON.parse(rendered) as { widgets: { properties: { metrics: string[][] } }[] }).widgets;
  const namespaces = new Set(widgets.flatMap((widget) => widget.properties.metrics.map((metric) => metric[0])));
  for (const namespace of ['AWS/ApiGateway', 'AWS/States', 'AWS/Lambda', 'AWS/DynamoDB', 'AWS/WAFV2'])
    expect(namespaces).toContain(namespace);
  for (const fn of logicalIdsOfType('AWS::Serverless::Function')) expect(text).toContain(`\${${fn}}`);
});

test('MON 1.4 an X-Ray group and sampling rule exist for this service', () => {
  const group = properties('TraceGroup');
  expect(subText(group.FilterExpression)).toContain('annotation.Service = "vulnerability-api"');
  expect(template.Globals?.Function?.Environment).toMatchObject({
    Variables: { POWERTOOLS_SERVICE_NAME: 'vulnerability-api' },
  });
  const rule = properties('TraceSamplingRule').SamplingRule as Record<string, unknown>;
  expect(rule).toMatchObject({ ServiceType: 'AWS::ApiGateway::Stage', Version: 1 });
  expect(subText(rule.ResourceARN)).toBe(
    'arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${VulnerabilityApi}/stages/${StageName}',
  );
  expect(rule.FixedRate).toBeGreaterThan(0);
});

test('MON 1.5 an optional monthly budget notifies the alarm topic', () => {
  const budget = resource('MonthlyBudget');
  expect(budget.Condition).toBe('HasBudget');
  expect(template.Conditions?.HasBudget).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'MonthlyBudgetUsd' }, '0'] }] });
  expect(template.Parameters?.MonthlyBudgetUsd?.Default).toBe(0);
  const props = budget.Properties as {
    Budget: { TimeUnit: string; BudgetLimit: { Amount: unknown; Unit: string } };
    NotificationsWithSubscribers: { Subscribers: { SubscriptionType: string; Address: unknown }[] }[];
  };
  expect(props.Budget.TimeUnit).toBe('MONTHLY');
  expect(isRef(props.Budget.BudgetLimit.Amount, 'MonthlyBudgetUsd')).toBe(true);
  for (const notification of props.NotificationsWithSubscribers) {
    expect(
      notification.Subscribers.some(
        (subscriber) => subscriber.SubscriptionType === 'SNS' && isRef(subscriber.Address, 'AlarmTopic'),
      ),
    ).toBe(true);
  }
});
