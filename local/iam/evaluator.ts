/**
 * IAM's decision on one call, by a maintained policy evaluator (@cloud-copilot/iam-simulate, which
 * implements AWS's policy evaluation logic: identity, permissions boundary, resource and VPC endpoint
 * policies; "Policy evaluation logic", IAM User Guide) over the stack's own documents (stack-iam.ts).
 * Decisions are cached by request: the documents do not change while the stack runs.
 */
import { getDenialReasons, runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { LOCAL_ACCOUNT } from '../aws-local';
import { assumedRoleArn } from './credentials';
import type { PolicyDocument, StackIam } from './stack-iam';

export interface IamRequest {
  /** A role ARN, or a service principal (`apigateway.amazonaws.com`). */
  principal: string;
  /** The role session, for the answer's `assumed-role/ROLE/SESSION` (the function's name for Lambda). */
  session?: string;
  action: string;
  resource: string;
  /** Request context keys (kms:ViaService, aws:SourceArn, …); aws:PrincipalArn/Account are added for roles. */
  context?: Record<string, string | string[]>;
  /** The VPC endpoint the call goes through (its policy applies too). */
  endpoint?: { name: string; policy: PolicyDocument };
  /** A resource policy other than the one the stack keeps for `resource` (none by default). */
  resourcePolicy?: PolicyDocument;
}

export type IamDecision = { allowed: true } | { allowed: false; message: string };

const REASONS: Record<string, string> = {
  identity: 'no identity-based policy allows',
  pb: 'no permissions boundary allows',
  vpce: 'no VPC endpoint policy allows',
  resource: 'no resource-based policy allows',
  scp: 'no service control policy allows',
  rcp: 'no resource control policy allows',
};
const EXPLICIT: Record<string, string> = {
  identity: 'an identity-based policy',
  pb: 'a permissions boundary',
  vpce: 'a VPC endpoint policy',
  resource: 'a resource-based policy',
  scp: 'a service control policy',
  rcp: 'a resource control policy',
};

/**
 * iam-simulate 0.1.x matches a context key with a variable part only at a '/' (`aws:PrincipalTag/K`), so it
 * drops `kms:EncryptionContext:K` (AWS KMS condition keys, Service Authorization Reference) and a condition on
 * it could never match. Such keys are renamed, in the request and in every policy alike, to a '/' key the
 * engine keeps for KMS actions; the condition operators, and so the decision, are unchanged.
 * tests/emulator/iam-evaluator.test.ts holds this (the right secret allowed, another denied).
 */
const ENCRYPTION_CONTEXT = /^kms:EncryptionContext:(.+)$/i;
const STAND_IN = 'aws:ResourceTag/local-kms-encryption-context.';
const standInKey = (key: string) => key.replace(ENCRYPTION_CONTEXT, (_, name: string) => `${STAND_IN}${name}`);

function withStandInKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => withStandInKeys(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).map(([key, item]) =>
    key === 'Condition' && item && typeof item === 'object'
      ? [
          key,
          Object.fromEntries(
            Object.entries(item as Record<string, Record<string, unknown>>).map(([operator, keys]) => [
              operator,
              Object.fromEntries(Object.entries(keys).map(([name, expected]) => [standInKey(name), expected])),
            ]),
          ),
        ]
      : [key, withStandInKeys(item)],
  );
  return Object.fromEntries(entries) as T;
}

/** Who the answer says asked: the role's session ARN, as AWS words its AccessDenied messages. */
function callerName(request: IamRequest): string {
  const role = /:role\/(.+)$/.exec(request.principal)?.[1];
  return role ? assumedRoleArn(role, request.session ?? role) : request.principal;
}

function kmsStandIn(simulation: Simulation): Simulation {
  return {
    ...withStandInKeys(simulation),
    request: {
      ...simulation.request,
      contextVariables: Object.fromEntries(
        Object.entries(simulation.request.contextVariables).map(([key, value]) => [standInKey(key), value]),
      ),
    },
  };
}

export class IamEvaluator {
  private readonly cache = new Map<string, Promise<IamDecision>>();

  constructor(private readonly stack: StackIam) {}

  decide(request: IamRequest): Promise<IamDecision> {
    const key = JSON.stringify([
      request.principal,
      request.session ?? '',
      request.action,
      request.resource,
      request.context ?? {},
      request.endpoint ?? '',
      request.resourcePolicy ?? '',
    ]);
    let decision = this.cache.get(key);
    if (!decision) {
      decision = this.evaluate(request);
      this.cache.set(key, decision);
    }
    return decision;
  }

  private async evaluate(request: IamRequest): Promise<IamDecision> {
    const denied = (because: string): IamDecision => ({
      allowed: false,
      message: `User: ${callerName(request)} is not authorized to perform: ${request.action} on resource: ${request.resource} because ${because}`,
    });
    const role = this.stack.roles[request.principal];
    const isRole = request.principal.includes(':role/');
    if (isRole && !role) return denied(`no role ${request.principal} exists in the stack`);
    if (role?.unresolved) return denied(`the local stack cannot read its policies (${role.unresolved})`);
    const resourcePolicy = request.resourcePolicy ?? this.stack.resourcePolicies[request.resource];
    const simulation: Simulation = {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: LOCAL_ACCOUNT },
        contextVariables: {
          ...(isRole ? { 'aws:PrincipalArn': request.principal, 'aws:PrincipalAccount': LOCAL_ACCOUNT } : {}),
          ...(request.context ?? {}),
        },
      },
      identityPolicies: role?.identityPolicies ?? [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
      ...(role?.boundary ? { permissionBoundaryPolicies: [role.boundary] } : {}),
      ...(request.endpoint ? { vpcEndpointPolicies: [request.endpoint] } : {}),
    };
    const result = await runSimulation(request.action.startsWith('kms:') ? kmsStandIn(simulation) : simulation, {});
    if (result.resultType === 'error')
      throw new Error(`IAM simulation of ${request.action} failed: ${JSON.stringify(result.errors)}`);
    if (result.resultType !== 'single') throw new Error(`IAM simulation of ${request.action}: not a single resource`);
    const ignored = result.result.ignoredContextKeys ?? [];
    // A context key the evaluator drops would make a condition on it silently fail: never decide on that.
    if (ignored.length > 0)
      throw new Error(`IAM simulation of ${request.action} ignored the context keys ${ignored.join(', ')}`);
    const allowed = result.overallResult === 'Allowed';
    if (allowed) return { allowed: true };
    const reasons = getDenialReasons(result.result.analysis);
    const explicit = reasons.find((reason) => reason.denialType === 'Explicit');
    if (explicit) return denied(`with an explicit deny in ${EXPLICIT[explicit.policyType] ?? explicit.policyType}`);
    const first = reasons[0];
    return denied(
      `${first ? (REASONS[first.policyType] ?? `no ${first.policyType} policy allows`) : 'no policy allows'} the ${request.action} action`,
    );
  }
}
