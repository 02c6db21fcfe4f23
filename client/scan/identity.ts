/**
 * A finding's identity (its VulnID) for every reader but Nessus's own (mapping.ts vulnIdOf keeps the
 * ids stored before [14]): the same vulnerability at the same place on the same asset gets the same
 * id on every export of the same scanner, so a re-push is `unchanged` and a completed run closes what
 * it no longer sees.
 */
import { createHash } from 'node:crypto';

export interface IdentityParts {
  /** The run's scanner (the format's, or --scanner): also the id's readable prefix. */
  scanner: string;
  /** Host, image, target or resource; compared without case or surrounding blanks. */
  asset: string;
  /** The scanner's rule: a plugin id, an OID, a QID, a CVE/GHSA id, a finding type. */
  rule: string;
  /** Port and protocol (network scanners); package, installed version and path (package scanners). */
  location: string[];
}

/** `<scanner>-<32 hex of SHA-256(asset, rule, location…)>`: at most 97 characters, within vulnIdSchema. */
export function findingIdentity(parts: IdentityParts): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([parts.asset.trim().toLowerCase(), parts.rule, ...parts.location]))
    .digest('hex')
    .slice(0, 32);
  return `${parts.scanner}-${digest}`;
}
