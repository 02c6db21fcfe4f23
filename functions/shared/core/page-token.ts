import { createHash } from 'node:crypto';
import { vulnIdSchema } from './finding-schema';
import { ValidationError } from './errors';

/**
 * `nextToken` carries only the position inside one org's partition. It is bound to that org and
 * carries a checksum, so a token from another org or an edited one is refused (400). The checksum is
 * not a secret MAC: a client could forge a token, but a token grants nothing. Every page request is
 * authorized for its org before the token is read, and the token can only move the start key within
 * that org's partition.
 */
const TAG_LENGTH = 22;

function tag(payload: string): string {
  return createHash('sha256').update(`vuln-page-token:v1:${payload}`).digest('base64url').slice(0, TAG_LENGTH);
}

export function encodePageToken(org: string, lastVulnId: string): string {
  const payload = Buffer.from(JSON.stringify({ o: org, k: lastVulnId })).toString('base64url');
  return `${payload}.${tag(payload)}`;
}

const invalidToken = () => new ValidationError([{ index: null, path: 'nextToken', message: 'is not a valid page token for this org' }]);

/** Returns the VulnID to resume after, or throws ValidationError. */
export function decodePageToken(token: string, org: string): string {
  const [payload, tagPart, ...rest] = token.split('.');
  if (!payload || !tagPart || rest.length > 0 || tag(payload) !== tagPart) throw invalidToken();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken();
  }
  const value = decoded as { o?: unknown; k?: unknown };
  if (value.o !== org || !vulnIdSchema.safeParse(value.k).success) throw invalidToken();
  return value.k as string;
}
