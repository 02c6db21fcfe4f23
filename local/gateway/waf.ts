/**
 * The template's web ACL (`AWS::WAFv2::WebACL` in nested/firewall.yaml), applied by the local gateway the way AWS
 * WAF applies it in front of the deployed stage: its rules in priority order, each with its action and overrides as
 * the template resolves them for the stack's parameters (defaults or `--parameter-overrides`), so a change in the
 * template changes what the local stack refuses. WAF runs before API Gateway: a block comes before routes,
 * throttling or validation.
 *
 * What AWS documents and this follows:
 * - Rule evaluation ("How AWS WAF handles rule and rule group actions", AWS WAF Developer Guide): rules run by
 *   Priority; Allow and Block terminate, Count records the match and goes on; with no terminating match the default
 *   action applies. A rule group's `OverrideAction: Count` turns its result into a count and "has no effect on how
 *   the rules are evaluated inside the rule group"; `RuleActionOverrides` (and the older `ExcludedRules`, as Count)
 *   change single rules ("Action override options for rule groups").
 * - Block answers 403 unless the action has a `CustomResponse` ("By default, your protected AWS resource responds
 *   with an HTTP 403 (Forbidden)"); behind API Gateway that 403 is the API's WAF_FILTERED gateway response, and "AWS
 *   WAF custom responses take precedence over custom gateway responses" ("Gateway response types for API Gateway").
 * - Body inspection (AWS WAF API reference, "Body"; developer guide, "Oversize web request components"): for API
 *   Gateway WAF reads the first 16 KB of a body, up to 64 KB when the web ACL's AssociationConfig raises it; with
 *   `OversizeHandling: MATCH` a body past that limit matches.
 * - Rate-based rules ("Rate-based rule high-level settings"): AWS WAF counts the requests of each aggregation
 *   instance (here: the source IP) over the evaluation window "looking back from the current time", and "when this
 *   limit is breached, AWS WAF applies the rule action setting to additional requests". AWS applies it "near the
 *   limit" and checks the rate periodically; locally it is exact, to the second.
 * - Managed rule groups: only the rules the guide defines completely (waf-managed-rules.ts).
 */
import type { CfnTemplate } from '../cloudformation/template';
import { LocalResolver } from '../cloudformation/intrinsics';
import type { HttpAnswer } from './http-answer';
import { AWS_MANAGED_RULE_GROUPS, type ManagedRule, type WafRequest } from './waf-managed-rules';

export type { WafRequest };

/** A rule that matched, named as AWS WAF's logs name it. */
export interface WafMatch {
  /** The web ACL rule (`terminatingRuleId` in AWS WAF logs). */
  ruleName: string;
  ruleType: 'RATE_BASED' | 'REGULAR' | 'MANAGED_RULE_GROUP';
  /** For a managed rule group: `AWS#<group name>` and the rule inside it that matched. */
  ruleGroupId?: string;
  ruleId?: string;
  action: 'BLOCK' | 'COUNT';
}

export interface WafVerdict {
  /** The terminating block, and the rule's custom response if it has one (else the API's WAF_FILTERED answer). */
  blocked?: { match: WafMatch; customResponse?: HttpAnswer };
  /** Matches that counted without terminating (Count actions and overrides). */
  counted: WafMatch[];
}

export interface WebAcl {
  evaluate(request: WafRequest, now?: number): WafVerdict;
  /** Rules and managed rules the local WAF does not apply, with why (logged once at start-up). */
  notEmulated: { rule: string; reason: string }[];
}

interface CustomResponse {
  ResponseCode?: number;
  CustomResponseBodyKey?: string;
  ResponseHeaders?: { Name: string; Value: string }[];
}
type RuleAction = { Block?: { CustomResponse?: CustomResponse }; Count?: unknown; Allow?: unknown } & Record<
  string,
  unknown
>;
interface ManagedGroupStatement {
  VendorName?: string;
  Name?: string;
  RuleActionOverrides?: { Name: string; ActionToUse: RuleAction }[];
  ExcludedRules?: { Name: string }[];
  ScopeDownStatement?: unknown;
}
interface AclRule {
  Name: string;
  Priority: number;
  Action?: RuleAction;
  OverrideAction?: { None?: unknown; Count?: unknown };
  Statement: {
    RateBasedStatement?: {
      Limit: number | string;
      EvaluationWindowSec?: number | string;
      AggregateKeyType?: string;
      ScopeDownStatement?: unknown;
    };
    SizeConstraintStatement?: {
      FieldToMatch?: { Body?: { OversizeHandling?: string } };
      ComparisonOperator?: string;
      Size?: number | string;
    };
    ManagedRuleGroupStatement?: ManagedGroupStatement;
  } & Record<string, unknown>;
}
interface AclProperties {
  DefaultAction?: RuleAction;
  AssociationConfig?: { RequestBody?: { API_GATEWAY?: { DefaultSizeInspectionLimit?: string } } };
  CustomResponseBodies?: Record<string, { ContentType?: string; Content?: string }>;
  Rules?: AclRule[];
}

/** DefaultSizeInspectionLimit values ("RequestBodyAssociatedResourceTypeConfig", AWS WAF API reference). */
const INSPECTION_LIMITS: Record<string, number> = { KB_16: 16_384, KB_32: 32_768, KB_48: 49_152, KB_64: 65_536 };
const CONTENT_TYPES: Record<string, string> = {
  APPLICATION_JSON: 'application/json',
  TEXT_PLAIN: 'text/plain',
  TEXT_HTML: 'text/html',
};

/** A rule's test of one request: the managed rule that matched (for groups), or true/false. */
type RuleTest = (request: WafRequest, now: number) => boolean;

/** Requests per source IP, in one-second buckets over the evaluation window. */
class RateCounter {
  private readonly buckets = new Map<string, Map<number, number>>();

  constructor(
    private readonly limit: number,
    private readonly windowSeconds: number,
  ) {}

  /** Counts this request; true when the IP's requests in the window, this one included, exceed the limit. */
  exceeded(ip: string, now: number): boolean {
    const second = Math.floor(now / 1000);
    const oldest = second - this.windowSeconds + 1;
    const seconds = this.buckets.get(ip) ?? new Map<number, number>();
    this.buckets.set(ip, seconds);
    seconds.set(second, (seconds.get(second) ?? 0) + 1);
    let total = 0;
    for (const [at, count] of seconds) {
      if (at < oldest) seconds.delete(at);
      else total += count;
    }
    return total > this.limit;
  }
}

function customResponse(
  action: RuleAction | undefined,
  bodies: NonNullable<AclProperties['CustomResponseBodies']>,
): HttpAnswer | undefined {
  const custom = action?.Block?.CustomResponse;
  if (!custom) return undefined;
  const body = custom.CustomResponseBodyKey ? bodies[custom.CustomResponseBodyKey] : undefined;
  return {
    status: Number(custom.ResponseCode ?? 403),
    // A custom response's headers reach the client under the names given (only inserted request headers get the
    // x-amzn-waf- prefix: CustomHTTPHeader in the AWS WAF API reference).
    headers: {
      ...(body ? { 'Content-Type': CONTENT_TYPES[body.ContentType ?? ''] ?? 'text/plain' } : {}),
      ...Object.fromEntries((custom.ResponseHeaders ?? []).map((entry) => [entry.Name, entry.Value])),
    },
    body: body?.Content ?? '',
  };
}

const actionName = (action: RuleAction | undefined): 'BLOCK' | 'COUNT' | 'ALLOW' | string =>
  action?.Block !== undefined
    ? 'BLOCK'
    : action?.Count !== undefined
      ? 'COUNT'
      : action?.Allow !== undefined
        ? 'ALLOW'
        : (Object.keys(action ?? {})[0]?.toUpperCase() ?? 'NONE');

/**
 * The web ACL of a stack template (root and nested layers inlined: loadStackTemplate) for the stack's parameter
 * values, or undefined when the template has none.
 */
export function webAclFromTemplate(template: CfnTemplate, parameters: Record<string, string>): WebAcl | undefined {
  const resource = Object.values(template.Resources).find((candidate) => candidate.Type === 'AWS::WAFv2::WebACL');
  if (!resource) return undefined;
  const acl = new LocalResolver(template, { refs: parameters, attributes: {} }).resolve(
    resource.Properties,
  ) as AclProperties;
  const bodies = acl.CustomResponseBodies ?? {};
  const inspectionLimit =
    INSPECTION_LIMITS[acl.AssociationConfig?.RequestBody?.API_GATEWAY?.DefaultSizeInspectionLimit ?? 'KB_16'] ?? 16_384;
  const notEmulated: WebAcl['notEmulated'] = [];
  const rules = [...(acl.Rules ?? [])].sort((left, right) => left.Priority - right.Priority);

  type Compiled = {
    rule: AclRule;
    /** `allow`: the rule's Allow ended the evaluation (the request goes on to API Gateway). */
    evaluate: (
      request: WafRequest,
      now: number,
    ) => { matches: WafMatch[]; block?: WafVerdict['blocked']; allow?: true };
  };
  const compiled: Compiled[] = [];

  for (const rule of rules) {
    const statement = rule.Statement;
    const ruleAction = rule.Action === undefined ? undefined : actionName(rule.Action);
    if (ruleAction !== undefined && !['BLOCK', 'COUNT', 'ALLOW'].includes(ruleAction)) {
      notEmulated.push({ rule: rule.Name, reason: `action ${ruleAction}` });
      continue;
    }
    const single = (ruleType: WafMatch['ruleType'], test: RuleTest): Compiled => {
      const action = actionName(rule.Action);
      return {
        rule,
        evaluate: (request, now) => {
          if (!test(request, now)) return { matches: [] };
          if (action === 'BLOCK') {
            const match: WafMatch = { ruleName: rule.Name, ruleType, action: 'BLOCK' };
            const custom = customResponse(rule.Action, bodies);
            return { matches: [match], block: { match, ...(custom ? { customResponse: custom } : {}) } };
          }
          if (action === 'ALLOW') return { matches: [], allow: true };
          return { matches: action === 'COUNT' ? [{ ruleName: rule.Name, ruleType, action: 'COUNT' }] : [] };
        },
      };
    };

    if (statement.RateBasedStatement) {
      const rate = statement.RateBasedStatement;
      if ((rate.AggregateKeyType ?? 'IP') !== 'IP' || rate.ScopeDownStatement !== undefined) {
        notEmulated.push({ rule: rule.Name, reason: 'rate-based rule other than per source IP without scope-down' });
        continue;
      }
      const counter = new RateCounter(Number(rate.Limit), Number(rate.EvaluationWindowSec ?? 300));
      compiled.push(single('RATE_BASED', (request, now) => counter.exceeded(request.sourceIp, now)));
    } else if (statement.SizeConstraintStatement?.FieldToMatch?.Body !== undefined) {
      const size = statement.SizeConstraintStatement;
      if (size.ComparisonOperator !== 'GT' || size.Size === undefined) {
        notEmulated.push({ rule: rule.Name, reason: 'body size comparison other than GT' });
        continue;
      }
      const limit = Number(size.Size);
      const oversizeMatches = size.FieldToMatch?.Body?.OversizeHandling === 'MATCH';
      compiled.push(
        single(
          'REGULAR',
          (request) => request.bodyBytes > limit || (oversizeMatches && request.bodyBytes > inspectionLimit),
        ),
      );
    } else if (statement.ManagedRuleGroupStatement) {
      const group = statement.ManagedRuleGroupStatement;
      const catalogue = group.VendorName === 'AWS' ? AWS_MANAGED_RULE_GROUPS[group.Name ?? ''] : undefined;
      if (!catalogue || group.ScopeDownStatement !== undefined) {
        notEmulated.push({
          rule: rule.Name,
          reason: catalogue ? 'managed rule group with a scope-down statement' : `unknown rule group ${group.Name}`,
        });
        continue;
      }
      for (const managed of catalogue.rules)
        if (managed.notEmulated)
          notEmulated.push({ rule: `${rule.Name}/${managed.name}`, reason: managed.notEmulated });
      const overrides = new Map<string, RuleAction>([
        ...(group.ExcludedRules ?? []).map((excluded): [string, RuleAction] => [excluded.Name, { Count: {} }]),
        ...(group.RuleActionOverrides ?? []).map((override): [string, RuleAction] => [
          override.Name,
          override.ActionToUse,
        ]),
      ]);
      const groupCounts = rule.OverrideAction?.Count !== undefined;
      // Every rule of these groups is documented with "Rule action: Block".
      const emulated = catalogue.rules.filter(
        (managed): managed is ManagedRule & Required<Pick<ManagedRule, 'matches'>> => managed.matches !== undefined,
      );
      compiled.push({
        rule,
        evaluate: (request) => {
          const matches: WafMatch[] = [];
          for (const managed of emulated) {
            if (!managed.matches(request)) continue;
            const action = overrides.get(managed.name) ?? { Block: {} };
            const base = {
              ruleName: rule.Name,
              ruleType: 'MANAGED_RULE_GROUP' as const,
              ruleGroupId: catalogue.id,
              ruleId: managed.name,
            };
            const name = actionName(action);
            if (name === 'COUNT') matches.push({ ...base, action: 'COUNT' });
            if (name === 'ALLOW' && !groupCounts) return { matches, allow: true };
            if (name !== 'BLOCK') continue;
            // The group's result: a block, or with OverrideAction Count a count that lets evaluation go on.
            if (groupCounts) return { matches: [...matches, { ...base, action: 'COUNT' }] };
            const match: WafMatch = { ...base, action: 'BLOCK' };
            const custom = customResponse(action, bodies);
            return { matches: [...matches, match], block: { match, ...(custom ? { customResponse: custom } : {}) } };
          }
          return { matches };
        },
      });
    } else {
      notEmulated.push({ rule: rule.Name, reason: `statement ${Object.keys(statement).join(', ')}` });
    }
  }

  const defaultBlocks = acl.DefaultAction?.Block !== undefined;
  return {
    notEmulated,
    evaluate: (request, now = Date.now()) => {
      const counted: WafMatch[] = [];
      for (const { evaluate } of compiled) {
        const { matches, block, allow } = evaluate(request, now);
        if (block) return { blocked: block, counted };
        counted.push(...matches);
        if (allow) return { counted };
      }
      // No terminating match: the web ACL's default action (AWS WAF logs it as Default_Action).
      if (defaultBlocks) {
        const match: WafMatch = { ruleName: 'Default_Action', ruleType: 'REGULAR', action: 'BLOCK' };
        const custom = customResponse(acl.DefaultAction, bodies);
        return { blocked: { match, ...(custom ? { customResponse: custom } : {}) }, counted };
      }
      return { counted };
    },
  };
}

/** The template's parameter defaults as strings (a parameter without one is left out). */
export function parameterDefaults(template: CfnTemplate): Record<string, string> {
  return Object.fromEntries(
    Object.entries(template.Parameters ?? {})
      .filter(([, parameter]) => parameter.Default !== undefined)
      .map(([name, parameter]) => [name, String(parameter.Default)]),
  );
}

/**
 * The largest body the web ACL lets through (its blocking body-size rule, with the inspection limit when oversize
 * bodies match), or undefined when no rule blocks on body size. `npm run push` sizes its batches to it.
 */
export function wafBodyLimit(
  template: CfnTemplate,
  parameters: Record<string, string> = parameterDefaults(template),
): number | undefined {
  const acl = webAclFromTemplate(template, parameters);
  if (!acl) return undefined;
  // Asks the rules themselves (no second reading of the template); each probe from its own address, so the rate
  // rule never counts them together.
  let probes = 0;
  const blocks = (bodyBytes: number) =>
    acl.evaluate({
      method: 'POST',
      path: '/vuln',
      queryString: '',
      headers: { 'user-agent': 'body-size-probe' },
      bodyBytes,
      sourceIp: `probe-${(probes += 1)}`,
    }).blocked !== undefined;
  if (!blocks(Number.MAX_SAFE_INTEGER)) return undefined;
  let [low, high] = [0, Number.MAX_SAFE_INTEGER];
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (blocks(middle)) high = middle;
    else low = middle;
  }
  return low;
}
