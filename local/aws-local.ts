/** The pretend account the local stack lives in: ARNs must parse, nothing ever reaches AWS. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_PARTITION = 'aws';
/** The REST API's id locally (`$context.apiId`, and the execute-api ARNs of Lambda permissions). */
export const LOCAL_API_ID = 'local';

export const localFunctionArn = (logicalId: string) =>
  `arn:${LOCAL_PARTITION}:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
export const localStateMachineArn = (logicalId: string) =>
  `arn:${LOCAL_PARTITION}:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${logicalId}`;

/**
 * The operator's credentials (the seed, `npm run authz`, tests' own clients): an administrator the local
 * servers do not evaluate (local/iam/gate.ts). They check who signs, never the signature; never real ones.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * What a local function's environment holds where Lambda's would hold the region: the region, the operator's
 * credentials (each function's execution role's replace them, lambda/invoker.ts), and the local DynamoDB and
 * Secrets Manager endpoints (the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` settings, so the product has
 * no local branch).
 */
export function localAwsEnvironment(dynamoDbEndpoint: string, secretsManagerEndpoint?: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: dynamoDbEndpoint,
    ...(secretsManagerEndpoint ? { AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManagerEndpoint } : {}),
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
}
