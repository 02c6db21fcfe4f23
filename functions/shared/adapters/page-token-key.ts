import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { ConfigurationError } from '../core/errors';
import { MIN_PAGE_TOKEN_KEY_LENGTH } from '../core/page-token';
import { classifyAwsError } from './aws-errors';
import { numberEnv, requireEnv } from './config';

const secretId = requireEnv('PAGE_TOKEN_SECRET_ARN');
const cacheSeconds = numberEnv('PAGE_TOKEN_KEY_CACHE_SECONDS', 300);

let provider: Promise<SecretsProvider> | undefined;

/**
 * The Secrets Manager client and its Powertools provider, loaded and built on the first page token signed or read,
 * once per execution environment: a page with no token in and none out reads no secret (docs/performance.md).
 */
function secretsProvider(): Promise<SecretsProvider> {
  provider ??= import('./page-token-secrets').then(({ pageTokenSecrets }) => pageTokenSecrets);
  return provider;
}

/**
 * The page-token MAC key: the stack's secret (template: PageTokenSecret), read through Powertools
 * Parameters and cached for PAGE_TOKEN_KEY_CACHE_SECONDS. A rotated secret invalidates the tokens
 * handed out before it, which costs a client one restarted listing.
 */
export async function pageTokenKey(): Promise<string> {
  let value: unknown;
  try {
    value = await (await secretsProvider()).get(secretId, { maxAge: cacheSeconds });
  } catch (error) {
    throw classifyAwsError(error);
  }
  if (typeof value !== 'string' || value.length < MIN_PAGE_TOKEN_KEY_LENGTH)
    throw new ConfigurationError('the page token secret is missing or too short');
  return value;
}
