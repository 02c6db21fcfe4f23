/**
 * The template's WAF body-size rule, applied by the local gateway the way AWS WAF applies it in
 * front of the deployed API, from the same template (WebAcl, its AssociationConfig and the
 * WafOversizeBodyAction parameter), so a batch the deployed API would refuse is refused here too.
 *
 * What AWS documents (AWS WAF API reference, "Body": https://docs.aws.amazon.com/waf/latest/APIReference/API_Body.html,
 * and the developer guide's "Oversize web request components"): for API Gateway WAF inspects the
 * first 16 KB of a body by default, up to 64 KB when the web ACL's AssociationConfig raises it
 * (`DefaultSizeInspectionLimit: KB_64` = 65,536 bytes); with `OversizeHandling: MATCH` a body over
 * that limit matches the rule, and the rule's action applies. Our rule's action is Block with a 413
 * custom response when WafOversizeBodyAction is Block (the default), Count (no effect) otherwise.
 * WAF runs before API Gateway, so the block comes before routes, throttling or validation.
 */
import { JSON_HEADERS } from '../../functions/shared/core/responses';
import type { CfnTemplate } from '../cloudformation/template';
import type { HttpAnswer } from './http-answer';

export type OversizeBodyAction = 'Block' | 'Count';

export interface WafBodyRule {
  /** Bodies of more bytes than this are blocked. */
  maxBytes: number;
  answer: HttpAnswer;
}

interface SizeRule {
  Action?: unknown;
  Statement?: {
    SizeConstraintStatement?: {
      FieldToMatch?: { Body?: { OversizeHandling?: string } };
      ComparisonOperator?: string;
      Size?: number;
    };
  };
}

const DEFAULT_INSPECTION_LIMIT = 16_384;
const SIZE_LIMITS: Record<string, number> = {
  KB_16: DEFAULT_INSPECTION_LIMIT,
  KB_32: 32_768,
  KB_48: 49_152,
  KB_64: 65_536,
};

/** The body action the rule takes for a parameter value: the rule's `Fn::If` on the BlockOversizeBodies-style condition. */
function blockAnswer(
  template: CfnTemplate,
  action: unknown,
  oversizeBodyAction: OversizeBodyAction,
  bodies: Record<string, { Content?: string }>,
): HttpAnswer | undefined {
  let chosen = action as Record<string, unknown> | undefined;
  const conditional = chosen?.['Fn::If'] as [string, unknown, unknown] | undefined;
  if (conditional) {
    const condition = template.Conditions?.[conditional[0]] as { 'Fn::Equals'?: [unknown, unknown] } | undefined;
    const [, expected] = condition?.['Fn::Equals'] ?? [];
    chosen = (oversizeBodyAction === expected ? conditional[1] : conditional[2]) as Record<string, unknown>;
  }
  const block = chosen?.Block as
    | {
        CustomResponse?: {
          ResponseCode?: number;
          CustomResponseBodyKey?: string;
          ResponseHeaders?: { Name: string; Value: string }[];
        };
      }
    | undefined;
  if (!block) return undefined;
  const key = block.CustomResponse?.CustomResponseBodyKey;
  return {
    status: block.CustomResponse?.ResponseCode ?? 403,
    // A Block action's custom response headers reach the client under the names given (only inserted
    // request headers get the x-amzn-waf- prefix: CustomHTTPHeader in the AWS WAF API reference).
    headers: {
      'Content-Type': JSON_HEADERS['Content-Type'] as string,
      ...Object.fromEntries((block.CustomResponse?.ResponseHeaders ?? []).map((header) => [header.Name, header.Value])),
    },
    body: (key ? bodies[key]?.Content : undefined) ?? '{"message":"Forbidden"}',
  };
}

/**
 * The size rule of the template's web ACL for an oversize-body action (default: the parameter's
 * default), or undefined when it blocks nothing (Count).
 */
export function wafBodyRule(template: CfnTemplate, oversizeBodyAction?: OversizeBodyAction): WafBodyRule | undefined {
  const action =
    oversizeBodyAction ??
    (String(template.Parameters?.WafOversizeBodyAction?.Default ?? 'Block') as OversizeBodyAction);
  const acl = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::WAFv2::WebACL')?.Properties;
  if (!acl) return undefined;
  const association = acl.AssociationConfig as
    { RequestBody?: { API_GATEWAY?: { DefaultSizeInspectionLimit?: string } } } | undefined;
  const inspectionLimit =
    SIZE_LIMITS[association?.RequestBody?.API_GATEWAY?.DefaultSizeInspectionLimit ?? 'KB_16'] ??
    DEFAULT_INSPECTION_LIMIT;
  const rule = ((acl.Rules ?? []) as SizeRule[]).find(
    (candidate) => candidate.Statement?.SizeConstraintStatement?.FieldToMatch?.Body !== undefined,
  );
  const statement = rule?.Statement?.SizeConstraintStatement;
  if (!rule || !statement || statement.ComparisonOperator !== 'GT' || statement.Size === undefined) return undefined;
  const answer = blockAnswer(
    template,
    rule.Action,
    action,
    (acl.CustomResponseBodies ?? {}) as Record<string, { Content?: string }>,
  );
  if (!answer) return undefined;
  const oversizeMatches = statement.FieldToMatch?.Body?.OversizeHandling === 'MATCH';
  return { maxBytes: oversizeMatches ? Math.min(inspectionLimit, statement.Size) : statement.Size, answer };
}
