/**
 * Authz table layout (one item per key), shared by the grant store and the admin tools:
 *   Id = "OU#<ou>"                     Value = { methods, orgs, issuer? }   (a grant; issuer = the pinned CA's key)
 *   Id = "ISSUERS"                     Value = { <spki sha256>: { publicKey, subject, revokedAt?, reason? } }
 *                                      (the CAs the table names: every pin and every revocation registers its
 *                                      CA here, so the authorization step finds a leaf's issuer by its signature)
 *   Id = "REVOKED#<spki sha256>#<HEX>" Value = { revokedAt, reason?, subject? }   (one revoked client certificate:
 *                                      issuer key + serial, so serial N of another CA stays valid)
 *   Id = "SERIAL#<HEX>"                written by earlier versions (serial without issuer): still denies, never written
 *   Id = "SLA#<org>"                   Value = { CRITICAL, HIGH, MEDIUM, LOW, INFO }   (the org's SLA policy: days per
 *                                      severity, null for none; no item = the defaults, core/sla.ts)
 */
export const AUTHZ_KEY_ATTRIBUTE = 'Id';
export const AUTHZ_VALUE_ATTRIBUTE = 'Value';
export const ISSUERS_KEY = 'ISSUERS';
export const grantKey = (ou: string) => `OU#${ou}`;
export const revocationKey = (issuerKey: string, serialNumber: string) => `REVOKED#${issuerKey}#${serialNumber}`;
export const legacyRevocationKey = (serialNumber: string) => `SERIAL#${serialNumber}`;
export const slaKey = (org: string) => `SLA#${org}`;
