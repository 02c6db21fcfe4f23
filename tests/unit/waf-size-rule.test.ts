/** The local WAF size rule is read from the template, as the deployed web ACL applies it. */
import { loadStackTemplate } from '../../local/cloudformation/nested-stacks';
import { wafBodyRule } from '../../local/gateway/waf';
import type { CfnTemplate } from '../../local/cloudformation/template';

const template = loadStackTemplate();

test("with the template defaults (Block) bodies over the 64 KB inspection limit get the rule's 413", () => {
  expect(template.Parameters?.WafOversizeBodyAction?.Default).toBe('Block');
  expect(wafBodyRule(template)).toEqual({
    maxBytes: 65_536,
    answer: {
      status: 413,
      headers: {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
      },
      body: '{"message":"Request body too large"}',
    },
  });
});

test('with Count the rule blocks nothing', () => {
  expect(wafBodyRule(template, 'Count')).toBeUndefined();
});

test('the limit follows the template: a 16 KB inspection limit, or no MATCH, changes it', () => {
  const copy = structuredClone(template) as CfnTemplate;
  const acl = Object.values(copy.Resources).find((resource) => resource.Type === 'AWS::WAFv2::WebACL')
    ?.Properties as Record<string, unknown>;
  (
    acl.AssociationConfig as { RequestBody: { API_GATEWAY: { DefaultSizeInspectionLimit: string } } }
  ).RequestBody.API_GATEWAY.DefaultSizeInspectionLimit = 'KB_16';
  expect(wafBodyRule(copy)?.maxBytes).toBe(16_384);
  const rule = (
    acl.Rules as { Statement: { SizeConstraintStatement?: { FieldToMatch: { Body: { OversizeHandling: string } } } } }[]
  ).find((candidate) => candidate.Statement.SizeConstraintStatement);
  if (rule?.Statement.SizeConstraintStatement)
    rule.Statement.SizeConstraintStatement.FieldToMatch.Body.OversizeHandling = 'CONTINUE';
  expect(wafBodyRule(copy)?.maxBytes).toBe(262_144);
});
