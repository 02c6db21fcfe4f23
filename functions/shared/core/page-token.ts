import { createHmac, timingSafeEqual } from 'node:crypto';
import { vulnIdSchema } from './finding-schema';
import { ValidationError } from './errors';

/**
 * `nextToken` carries only the position inside one org's partition, bound to that org under an
 * HMAC-SHA-256 whose key the client never sees (a secret of the stack). An edited, forged or
 * other-org token is a 400 before any read; even a valid one only moves the start key within the
 * partition of an org the caller was just authorized for.
 */
const DOMAIN = 'vuln-page-token:v2:';
/** A key shorter than this is a configuration mistake, not a secret. */
export const MIN_PAGE_TOKEN_KEY_LENGTH = 32;

function tag(key: string, payload: string): Buffer {
  return createHmac('sha256', key).update(`${DOMAIN}${payload}`).digest();
}

export function encodePageToken(key: string, org: string, lastVulnId: string): string {
  const payload = Buffer.from(JSON.stringify({ o: org, k: lastVulnId })).toString('base64url');
  return `${payload}.${tag(key, payload).toString('base64url')}`;
}

const invalidToken = () =>
  new ValidationError([{ index: null, path: 'nextToken', message: 'is not a valid page token for this org' }]);

/** Returns the VulnID to resume after, or throws ValidationError. */
export function decodePageToken(key: string, token: string, org: string): string {
  const [payload, tagPart, ...rest] = token.split('.');
  if (!payload || !tagPart || rest.length > 0) throw invalidToken();
  // Compared as text, not as decoded bytes: base64url's last character carries spare bits a decoder
  // ignores, so a byte comparison would accept several spellings of one tag (an edited token passing).
  const given = Buffer.from(tagPart);
  const expected = Buffer.from(tag(key, payload).toString('base64url'));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidToken();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken();
  }
  const value = decoded as { o?: unknown; k?: unknown } | null;
  if (value === null || typeof value !== 'object' || value.o !== org || !vulnIdSchema.safeParse(value.k).success)
    throw invalidToken();
  return value.k as string;
}
