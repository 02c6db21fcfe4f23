import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { tracer } from './powertools';

/**
 * The page-token secret's provider, in a module of its own so that page-token-key.ts can import it on first use:
 * esbuild still tree-shakes the SDK client through these static imports, where a dynamic import of the SDK package
 * itself would keep every command of it. The endpoint comes from the SDK's own configuration
 * (`AWS_ENDPOINT_URL_SECRETS_MANAGER` locally): no local-only branch.
 */
export const pageTokenSecrets = new SecretsProvider({
  awsSdkV3Client: tracer.captureAWSv3Client(new SecretsManagerClient({})),
});
