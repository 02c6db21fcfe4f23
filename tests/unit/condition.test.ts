import { all, allOf, anyOf, MAX_EXPRESSION_LENGTH, render } from '../../functions/shared/adapters/condition';

// The repository builds the GET filter; it loads the functions' Powertools set-up, which needs a service name.
process.env.POWERTOOLS_SERVICE_NAME ??= 'condition-test';
const { filterExpression } = jest.requireActual<typeof import('../../functions/shared/adapters/findings-repository')>(
  '../../functions/shared/adapters/findings-repository',
);

describe('flat DynamoDB conditions', () => {
  it('multiplies ANDs of ORs out into an OR of ANDs', () => {
    const condition = allOf(anyOf(all('a'), all('b')), all('c'), anyOf(all('d', 'e'), all('f')));
    expect(render(condition)).toBe('a AND c AND d AND e OR a AND c AND f OR b AND c AND d AND e OR b AND c AND f');
  });

  it('refuses what always or never holds, and an expression over the service limit', () => {
    expect(() => render([])).toThrow();
    expect(() => render(allOf())).toThrow();
    expect(() => render(all('x'.repeat(MAX_EXPRESSION_LENGTH + 1)))).toThrow(/4096/);
  });

  it('writes every GET filter without parentheses around a sub-expression', () => {
    const everything = filterExpression({
      severities: ['HIGH', 'CRITICAL'],
      asset: 'host',
      cve: 'CVE-2024-1',
      packageName: 'openssl',
      knownExploit: false,
      status: 'OPEN',
      workflows: ['NEW', 'ACKNOWLEDGED', 'FALSE_POSITIVE', 'RISK_ACCEPTED'],
      now: '2026-12-07T00:00:00.000Z',
    });
    // The only parentheses left are those of functions and of IN's list.
    const withoutCalls = everything?.expression.replace(
      /\b(IN |contains|attribute_not_exists|attribute_exists)\s*\([^()]*\)/g,
      '',
    );
    expect(withoutCalls).not.toMatch(/[()]/);
    expect(everything?.expression.length).toBeLessThanOrEqual(MAX_EXPRESSION_LENGTH);
  });

  it('reads the default list as OPEN, and NEW or ACKNOWLEDGED with a run-out acceptance as NEW', () => {
    const filter = filterExpression({ status: 'OPEN', workflows: ['NEW', 'ACKNOWLEDGED'], now: 'T' });
    expect(filter?.expression).toBe(
      [
        'NOT #Status = :fixed AND NOT #Workflow = :workflowACKNOWLEDGED AND NOT #Workflow = :workflowFALSE_POSITIVE AND NOT #Workflow = :workflowRISK_ACCEPTED',
        'NOT #Status = :fixed AND #Workflow = :workflowRISK_ACCEPTED AND NOT #AcceptedUntil > :workflowNow',
        'NOT #Status = :fixed AND #Workflow = :workflowACKNOWLEDGED',
      ].join(' OR '),
    );
  });
});
