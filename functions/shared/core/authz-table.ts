/**
 * Authz table layout (one item per key), shared by the grant store and the admin tools:
 *   Id = "OU#<ou>"         Value = { methods: ["GET","POST"], orgs: ["org1"] | "*", issuerDN? }
 *   Id = "SERIAL#<HEX>"    Value = { revokedAt, reason? }   (a revoked client certificate)
 */
export const AUTHZ_KEY_ATTRIBUTE = 'Id';
export const AUTHZ_VALUE_ATTRIBUTE = 'Value';
export const grantKey = (ou: string) => `OU#${ou}`;
export const revocationKey = (serialNumber: string) => `SERIAL#${serialNumber}`;
