/**
 * Where every local endpoint asks whether a call may proceed, as AWS decides it: the operator (the local
 * credentials: the seed, `npm run authz`, tests' own clients) is an administrator and is not evaluated; an
 * unknown key is refused as an invalid token; a role's call is evaluated against its policies, the permissions
 * boundary and the resource's policy, then each KMS key the service uses for it (the key policy and the role's
 * kms:Decrypt through that service); a function in the VPC reaches a service only by a route its subnets have,
 * and that endpoint's policy applies too. SCPs, RCPs and session policies are not modelled (docs/local-stack.md).
 *
 * Verdicts are cached by caller and request: the documents do not change while the stack runs, so a call
 * costs one string and one Map lookup after its first.
 */
import type { Principal } from './credentials';
import { assumedRoleArn } from './credentials';
import type { AwsCall } from './calls';
import { IamEvaluator } from './evaluator';
import type { StackIam } from './stack-iam';

export type Verdict =
  | { kind: 'allowed' }
  /** `kms`: the call itself was allowed, the key was not (services word that differently). */
  | { kind: 'denied'; code: 'AccessDeniedException' | 'UnrecognizedClientException'; message: string; kms: boolean }
  /** No route from the caller's subnets to the service: the call fails as the network fails it. */
  | { kind: 'unreachable' };

export interface Denial {
  service: string;
  caller: string;
  action: string;
  resource: string;
  verdict: 'denied' | 'unreachable';
  message: string;
}

const ALLOWED: Verdict = { kind: 'allowed' };
export const INVALID_TOKEN = 'The security token included in the request is invalid.';

const principalName = (principal: Principal): string => {
  switch (principal.kind) {
    case 'operator':
      return 'operator';
    case 'role':
      return assumedRoleArn(principal.roleName, principal.session);
    case 'service':
      return principal.service;
    default:
      return `access key ${principal.keyId ?? '(none)'}`;
  }
};

export class IamGate {
  private readonly verdicts = new Map<string, Promise<Verdict>>();
  private readonly evaluator: IamEvaluator;

  constructor(
    readonly stack: StackIam,
    private readonly onDenial: (denial: Denial) => void = () => undefined,
  ) {
    this.evaluator = new IamEvaluator(stack);
  }

  async check(principal: Principal, call: AwsCall): Promise<Verdict> {
    if (principal.kind === 'operator') return ALLOWED;
    const who =
      principal.kind === 'role'
        ? `${principal.roleArn}|${principal.session}`
        : principal.kind === 'service'
          ? principal.service
          : `?${principal.keyId}`;
    const key = `${who}\u0000${call.resources.map((r) => `${r.action} ${r.resource}`).join('\u0001')}\u0000${
      call.context ? JSON.stringify(call.context) : ''
    }`;
    let pending = this.verdicts.get(key);
    if (!pending) {
      pending = this.decide(principal, call);
      this.verdicts.set(key, pending);
    }
    const verdict = await pending;
    if (verdict.kind !== 'allowed') {
      const first = call.resources[0];
      this.onDenial({
        service: call.service,
        caller: principalName(principal),
        action: first?.action ?? call.action,
        resource: first?.resource ?? '',
        verdict: verdict.kind,
        message:
          verdict.kind === 'denied' ? verdict.message : `no route from the functions' subnets to ${call.service}`,
      });
    }
    return verdict;
  }

  /**
   * Loads the engine's service data before the first call needs it (the first decision of a service reads its
   * actions and condition keys from disk, a cold cost a function's timeout should not pay on a busy machine).
   */
  async warm(services: readonly string[]): Promise<void> {
    const probes: Record<string, [string, string]> = {
      dynamodb: ['dynamodb:GetItem', 'arn:aws:dynamodb:us-east-1:000000000000:table/warm'],
      kms: ['kms:Decrypt', 'arn:aws:kms:us-east-1:000000000000:key/warm'],
      secretsmanager: ['secretsmanager:GetSecretValue', 'arn:aws:secretsmanager:us-east-1:000000000000:secret:warm'],
      lambda: ['lambda:InvokeFunction', 'arn:aws:lambda:us-east-1:000000000000:function:warm'],
      states: ['states:StartExecution', 'arn:aws:states:us-east-1:000000000000:stateMachine:warm'],
    };
    const principal = Object.keys(this.stack.roles)[0];
    if (principal === undefined) return;
    for (const service of services) {
      const probe = probes[service];
      if (probe) await this.evaluator.decide({ principal, action: probe[0], resource: probe[1] });
    }
  }

  /** A function's session in VPC mode: its calls leave through the subnets' routes only. */
  private inVpc(principal: Principal): boolean {
    return (
      this.stack.vpc !== undefined &&
      principal.kind === 'role' &&
      this.stack.functionRoles[principal.session] === principal.roleName
    );
  }

  private async decide(principal: Principal, call: AwsCall): Promise<Verdict> {
    if (principal.kind === 'unknown')
      return { kind: 'denied', code: 'UnrecognizedClientException', message: INVALID_TOKEN, kms: false };
    if (principal.kind === 'operator') return ALLOWED;
    const route = this.inVpc(principal) ? this.stack.vpc?.routes[call.service] : undefined;
    if (this.inVpc(principal) && !route) return { kind: 'unreachable' };
    const who =
      principal.kind === 'role'
        ? { principal: principal.roleArn, session: principal.session }
        : { principal: principal.service };
    for (const { action, resource } of call.resources) {
      const decision = await this.evaluator.decide({
        ...who,
        action,
        resource,
        ...(call.context ? { context: call.context } : {}),
        ...(route ? { endpoint: route.policy } : {}),
      });
      if (!decision.allowed)
        return { kind: 'denied', code: 'AccessDeniedException', message: decision.message, kms: false };
    }
    // The service's own call to KMS: not through the caller's VPC endpoint, with the key policy as resource policy.
    for (const { key, context } of call.kms) {
      const decision = await this.evaluator.decide({ ...who, action: 'kms:Decrypt', resource: key, context });
      if (!decision.allowed)
        return { kind: 'denied', code: 'AccessDeniedException', message: decision.message, kms: true };
    }
    return ALLOWED;
  }
}
