import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Built once per execution environment and shared by every handler (STYLE 1). */
export const SERVICE_NAME = 'vulnerability-api';

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const tracer = new Tracer({ serviceName: SERVICE_NAME, captureHTTPsRequests: true });

/**
 * One DynamoDB client, traced. The endpoint comes from the SDK's own configuration
 * (`AWS_ENDPOINT_URL_DYNAMODB` locally), so the product has no local-only branch.
 */
export const dynamoDbClient = tracer.captureAWSv3Client(new DynamoDBClient({}));
