import { slaPolicy, type SlaPolicy } from '../core/sla-policy';
import { grantStore } from './authorization';

/** An org's SLA policy, read through the cached grant store (item `SLA#<org>` of the authz table; defaults without). */
export async function readSlaPolicy(org: string): Promise<SlaPolicy> {
  return slaPolicy(await grantStore.getSlaPolicy(org));
}
