import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigurationError } from '../core/errors';
import { MIN_PAGE_TOKEN_KEY_LENGTH } from '../core/page-token';
import { classifyAwsError } from './aws-errors';
import { numberEnv, requireEnv } from './config';
import { tracer } from './powertools';

const secretId = requireEnv('PAGE_TOKEN_SECRET_ARN');
const cacheSeconds = numberEnv('PAGE_TOKEN_KEY_CACHE_SECONDS', 300);
/** The endpoint comes from the SDK's own configuration (`AWS_ENDPOINT_URL_SECRETS_MANAGER` locally): no local-only branch. */
const provider = new SecretsProvider({ awsSdkV3Client: tracer.captureAWSv3Client(new SecretsManagerClient({})) });

/**
 * The page-token MAC key: the stack's secret (template: PageTokenSecret), read through Powertools
 * Parameters and cached for PAGE_TOKEN_KEY_CACHE_SECONDS. A rotated secret invalidates the tokens
 * handed out before it, which costs a client one restarted listing.
 */
export async function pageTokenKey(): Promise<string> {
  let value: unknown;
  try {
    value = await provider.get(secretId, { maxAge: cacheSeconds });
  } catch (error) {
    throw classifyAwsError(error);
  }
  if (typeof value !== 'string' || value.length < MIN_PAGE_TOKEN_KEY_LENGTH)
    throw new ConfigurationError('the page token secret is missing or too short');
  return value;
}
