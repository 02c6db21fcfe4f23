/** The pretend account the local stack lives in: ARNs must parse, nothing ever reaches AWS. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_PARTITION = 'aws';

export const localFunctionArn = (logicalId: string) => `arn:${LOCAL_PARTITION}:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
export const localStateMachineArn = (logicalId: string) => `arn:${LOCAL_PARTITION}:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${logicalId}`;

/** Credentials the local servers accept (they do not check signatures); never real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Points the AWS SDK of the in-process functions at the local DynamoDB and Secrets Manager servers. */
export function useLocalAws(dynamoDbEndpoint: string, secretsManagerEndpoint?: string): void {
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamoDbEndpoint;
  if (secretsManagerEndpoint) process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secretsManagerEndpoint;
  process.env.AWS_REGION = LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}
