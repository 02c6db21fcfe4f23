/**
 * A VulnID repeated inside one batch (same Org) is one finding: it is written once, with the last
 * occurrence's fields, and counted once in created/updated; `accepted` counts every finding sent.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { REFERENCE_FINDING } from '../../local/seed';
import { startTestStack, type TestStack } from '../support/local-stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

const finding = (VulnID: string, PluginName: string, Org = 'org1') => ({
  ...REFERENCE_FINDING,
  VulnID,
  Org,
  PluginName,
});
const stored = async (Org: string, VulnID: string) =>
  unmarshall(
    (
      await stack.dynamoDb.send(
        new GetItemCommand({ TableName: stack.tables.FindingsTable, Key: marshall({ Org, VulnID }) }),
      )
    ).Item ?? {},
  );

test.each([1, 2, 3])(
  'a new VulnID sent three times in one batch is created once, the last one winning (run %i)',
  async (run) => {
    const vulnId = `dup-${run}`;
    const findings = [
      finding(vulnId, 'first'),
      finding('other', 'x', 'org2'),
      finding(vulnId, 'second'),
      finding(vulnId, 'last'),
    ];
    const answer = await stack.request(stack.pki.scanner, { path: '/vuln', body: { findings } });
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ accepted: 4, created: run === 1 ? 2 : 1, updated: run === 1 ? 0 : 1 });
    expect(await stored('org1', vulnId)).toMatchObject({ PluginName: 'last' });
  },
);

test('the same VulnID in two orgs is two findings', async () => {
  const answer = await stack.request(stack.pki.scanner, {
    path: '/vuln',
    body: { findings: [finding('shared', 'in org1'), finding('shared', 'in org2', 'org2')] },
  });
  expect(answer.json()).toMatchObject({ accepted: 2, created: 2, updated: 0 });
  expect(await stored('org2', 'shared')).toMatchObject({ PluginName: 'in org2' });
});
