import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { ConfigurationError } from '../core/errors';
import { MIN_PAGE_TOKEN_KEY_LENGTH } from '../core/page-token';
import { classifyAwsError } from './aws-errors';
import { numberEnv, requireEnv } from './config';
import { tracer } from './powertools';

const secretId = requireEnv('PAGE_TOKEN_SECRET_ARN');
const cacheSeconds = numberEnv('PAGE_TOKEN_KEY_CACHE_SECONDS', 300);

let provider: Promise<SecretsProvider> | undefined;

/**
 * The Secrets Manager client and its Powertools provider, loaded and built on the first page token signed or read,
 * once per execution environment: a first page with nothing after it (most dashboards' orgs) never needs them, and
 * loading them cost GetFindings' init phase about a tenth of the DynamoDB-client-only bundle's (docs/performance.md).
 * esbuild bundles both modules all the same (a dynamic import of a bundled module is a deferred call, not a fetch).
 * The endpoint comes from the SDK's own configuration (`AWS_ENDPOINT_URL_SECRETS_MANAGER` locally): no local-only branch.
 */
function secretsProvider(): Promise<SecretsProvider> {
  provider ??= Promise.all([
    import('@aws-lambda-powertools/parameters/secrets'),
    import('@aws-sdk/client-secrets-manager'),
  ]).then(
    ([{ SecretsProvider: Provider }, { SecretsManagerClient }]) =>
      new Provider({ awsSdkV3Client: tracer.captureAWSv3Client(new SecretsManagerClient({})) }),
  );
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
