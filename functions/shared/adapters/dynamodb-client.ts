import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { tracer } from './powertools';

/**
 * One DynamoDB client per execution environment, traced. The endpoint comes from the SDK's own
 * configuration (`AWS_ENDPOINT_URL_DYNAMODB` locally), so the product has no local-only branch.
 */
export const dynamoDbClient = tracer.captureAWSv3Client(new DynamoDBClient({}));
