/**
 * Stand-in for the identity h-fmt-model defines (the agreed contract); replaced by theirs on merge.
 */
import { createHash } from 'node:crypto';

export function findingIdentity(parts: { scanner: string; asset: string; rule: string; location: string[] }): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([parts.asset.trim().toLowerCase(), parts.rule, ...parts.location]))
    .digest('hex')
    .slice(0, 32);
  return `${parts.scanner}-${digest}`;
}
