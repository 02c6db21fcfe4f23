import { withUnranked, type SlaPolicy } from '../core/sla-policy';
import { slaPolicyOf } from './authorization';

/**
 * An org's SLA policy as the summary reads it: the same cached read and the same schema as GET /vuln (a stored
 * policy that breaks it fails the request, core/sla.ts), with UNKNOWN's none.
 */
export async function readSlaPolicy(org: string): Promise<SlaPolicy> {
  return withUnranked(await slaPolicyOf(org));
}
