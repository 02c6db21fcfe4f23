/** The cold-start baseline: a function that only builds a DynamoDB client, bundled like the real ones. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const client = new DynamoDBClient({});

export const handler = async () => ({ region: await client.config.region() });
