/**
 * Credentials that name who calls. On AWS a function's SDK signs with its execution role's temporary
 * credentials, and the service evaluates IAM for that role ("Lambda execution role", Lambda Developer
 * Guide). Locally each role gets an access key id of its own, and the local servers read the caller
 * from the SigV4 `Authorization` header's `Credential=<key id>/<date>/<region>/<service>/aws4_request`
 * ("Authenticating Requests: Using the Authorization Header", Amazon S3 / Signature Version 4 docs).
 * The operator's key (`LOCAL_CREDENTIALS`, used by `npm run authz`, the seed and the tests' own
 * clients) stands for an administrator: as on AWS, the operator is not the stack's code.
 */
import { LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_PARTITION } from '../aws-local';

const ROLE_KEY_PREFIX = 'LOCALROLE';

export const localRoleArn = (roleLogicalId: string) =>
  `arn:${LOCAL_PARTITION}:iam::${LOCAL_ACCOUNT}:role/${roleLogicalId}`;

/**
 * The access key id of role `roleLogicalId`'s session `session` (the function's name, as Lambda names
 * its sessions): letters and digits only, as DynamoDB Local 2.x requires of an access key id ("DynamoDB
 * local usage notes", Amazon DynamoDB Developer Guide), so the role's name is prefixed by its length.
 */
export const roleAccessKeyId = (roleLogicalId: string, session: string) =>
  `${ROLE_KEY_PREFIX}${String(roleLogicalId.length).padStart(3, '0')}${roleLogicalId}${session}`;

/** Environment variables of a role's credentials, as Lambda sets them. */
export const roleCredentialVariables = (roleLogicalId: string, session: string): Record<string, string> => ({
  AWS_ACCESS_KEY_ID: roleAccessKeyId(roleLogicalId, session),
  AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  AWS_SESSION_TOKEN: `${ROLE_KEY_PREFIX}session`,
});

export type Caller =
  | { kind: 'operator' }
  | { kind: 'role'; roleArn: string; roleName: string; session: string }
  | { kind: 'unknown'; keyId: string | undefined };

/** Who asks: a signer (above), or an AWS service acting for the stack (API Gateway invoking a function). */
export type Principal = Caller | { kind: 'service'; service: string };

/** A role's session as a caller (a state machine's or an integration's role, which signs nothing locally). */
export const roleCaller = (roleLogicalId: string, session: string): Caller => ({
  kind: 'role',
  roleArn: localRoleArn(roleLogicalId),
  roleName: roleLogicalId,
  session,
});

/** Who signed a request: from its `Authorization` header (SigV4), else unknown. */
export function callerOf(authorization: string | undefined): Caller {
  const keyId = /Credential=([^/,\s]+)\//.exec(authorization ?? '')?.[1];
  if (keyId === LOCAL_CREDENTIALS.accessKeyId) return { kind: 'operator' };
  const role = /^LOCALROLE(\d{3})([A-Za-z0-9]+)$/.exec(keyId ?? '');
  const nameLength = Number(role?.[1]);
  if (role?.[2] && nameLength > 0 && nameLength < role[2].length) {
    const roleName = role[2].slice(0, nameLength);
    return { kind: 'role', roleArn: localRoleArn(roleName), roleName, session: role[2].slice(nameLength) };
  }
  return { kind: 'unknown', keyId };
}

/** The ARN AWS names a role's session by in its answers (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`). */
export const assumedRoleArn = (roleName: string, session: string) =>
  `arn:${LOCAL_PARTITION}:sts::${LOCAL_ACCOUNT}:assumed-role/${roleName}/${session}`;
