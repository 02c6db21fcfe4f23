/**
 * Lambda's event source mappings for DynamoDB streams, as the local stack runs them: for every `Events` entry of
 * `Type: DynamoDB` of a function, a poller reads the stream through the DynamoDB Streams API (so it behaves the same
 * on dynalite and on DynamoDB Local) with the function's execution role's credentials, as Lambda does ("Lambda
 * execution role" and "Using AWS Lambda with Amazon DynamoDB", Lambda Developer Guide: the role needs
 * dynamodb:DescribeStream, GetShardIterator, GetRecords and ListStreams), and invokes the function synchronously
 * with batches of records, in order, one batch at a time per shard. From that guide and its pages "Configuring
 * partial batch response with DynamoDB and Lambda" and "Error handling for DynamoDB event sources":
 * - the event is `{ Records: [{ eventID, eventName, eventVersion, eventSource: 'aws:dynamodb', awsRegion, dynamodb,
 *   eventSourceARN }] }`; a batch holds at most BatchSize records (default 100), gathered for at most
 *   MaximumBatchingWindowInSeconds (default 0);
 * - a function error (or timeout) retries the whole batch until it succeeds or MaximumRetryAttempts (default -1:
 *   until the records expire) is exhausted; with BisectBatchOnFunctionError the failed batch is split in two
 *   first, and splitting does not count as a retry;
 * - with FunctionResponseTypes [ReportBatchItemFailures], a response whose `batchItemFailures` name records retries
 *   from the lowest failed sequence number (the records before it are done); an itemIdentifier that is empty or not
 *   in the batch fails the whole batch; an empty list is success;
 * - when retries are exhausted the batch's description (the on-failure record: `requestContext`,
 *   `responseContext`, `DDBStreamBatchInfo`) goes to DestinationConfig.OnFailure and the mapping moves on. There is
 *   no SQS or SNS here: the records are kept by the mappings (`failures()`), logged, and counted by tests;
 * - throttled invocations (TooManyRequestsException) are retried without counting as retries;
 * - FilterCriteria drops the records no filter matches before they are batched (the subset of event filtering's
 *   pattern syntax implemented below);
 * - Lambda refuses to create a mapping whose role cannot read the stream: locally the mapping fails on its first
 *   read, logs why, and `drain()` rejects with it.
 * Not emulated (docs/local-stack.md): MaximumRecordAgeInSeconds, ParallelizationFactor, TumblingWindowInSeconds,
 * AT_TIMESTAMP, more than one shard.
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamsRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../aws-local';
import type { LocalResolver } from '../cloudformation/intrinsics';
import { resourcesOfType, type CfnTemplate } from '../cloudformation/template';
import { roleCredentialVariables } from '../iam/credentials';
import { LambdaServiceError, type InvokerLog, type LocalFunctions } from './invoker';

export interface EventSourceMappingDefinition {
  /** `<Function>.<Event>`, the names the template gives them. */
  id: string;
  functionId: string;
  functionArn: string;
  streamArn: string;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  batchSize: number;
  maximumBatchingWindowMs: number;
  /** -1: until the records expire. */
  maximumRetryAttempts: number;
  bisectBatchOnFunctionError: boolean;
  reportBatchItemFailures: boolean;
  onFailureDestination?: string;
  enabled: boolean;
  filters: unknown[];
}

/** The on-failure record Lambda sends for a DynamoDB stream batch ("Error handling", Lambda Developer Guide). */
export interface OnFailureRecord {
  mapping: string;
  destination: string | undefined;
  requestContext: { requestId: string; functionArn: string; condition: string; approximateInvokeCount: number };
  responseContext: { statusCode: number; executedVersion: string; functionError: string };
  version: '1.0';
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface MappingStatus {
  id: string;
  state: 'Enabled' | 'Disabled' | 'Failed';
  /** Why it failed (Failed only). */
  reason?: string;
  /** Invocations so far, retries included. */
  invocations: number;
}

export interface EventSourceMappings {
  definitions: EventSourceMappingDefinition[];
  /** Resolves once every mapping has delivered or sent on failure every record written before the call. */
  drain(): Promise<void>;
  failures(): OnFailureRecord[];
  status(): MappingStatus[];
  close(): Promise<void>;
}

const number = (value: unknown, fallback: number) => (value === undefined ? fallback : Number(value));

/** The template's `Type: DynamoDB` events, resolved (the stream ARN is the running table's). */
export function eventSourceMappingDefinitions(
  template: CfnTemplate,
  resolver: LocalResolver,
): EventSourceMappingDefinition[] {
  return resourcesOfType(template, 'AWS::Serverless::Function').flatMap(([functionId, resource]) =>
    Object.entries((resource.Properties?.Events ?? {}) as Record<string, { Type?: string; Properties?: unknown }>)
      .filter(([, event]) => event.Type === 'DynamoDB')
      .map(([eventId, event]) => {
        const properties = resolver.resolve(event.Properties ?? {}) as Record<string, unknown>;
        const destination = (properties.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)
          ?.OnFailure?.Destination;
        const startingPosition = String(properties.StartingPosition);
        if (startingPosition !== 'TRIM_HORIZON' && startingPosition !== 'LATEST')
          throw new Error(`${functionId}.${eventId}: StartingPosition ${startingPosition} is not run locally`);
        return {
          id: `${functionId}.${eventId}`,
          functionId,
          functionArn: resolver.resolve({ 'Fn::GetAtt': [functionId, 'Arn'] }) as string,
          streamArn: String(properties.Stream),
          startingPosition,
          batchSize: number(properties.BatchSize, 100),
          maximumBatchingWindowMs: number(properties.MaximumBatchingWindowInSeconds, 0) * 1000,
          maximumRetryAttempts: number(properties.MaximumRetryAttempts, -1),
          bisectBatchOnFunctionError: properties.BisectBatchOnFunctionError === true,
          reportBatchItemFailures: ((properties.FunctionResponseTypes ?? []) as string[]).includes(
            'ReportBatchItemFailures',
          ),
          ...(destination === undefined ? {} : { onFailureDestination: String(destination) }),
          enabled: properties.Enabled !== false,
          filters: (
            ((properties.FilterCriteria as { Filters?: { Pattern: string }[] } | undefined)?.Filters ?? []) as {
              Pattern: string;
            }[]
          ).map((filter) => JSON.parse(filter.Pattern) as unknown),
        };
      }),
  );
}

/**
 * Whether a record matches one filter pattern of Lambda event filtering ("Lambda event filtering", Lambda Developer
 * Guide): nested objects match nested fields; a list matches when one of its entries does: a value (equality), or
 * `{ prefix }`, `{ exists }`, `{ 'anything-but': [...] }`, `{ numeric: [op, n, ...] }`.
 */
export function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.some((entry) => matchesEntry(value, entry));
  if (pattern === null || typeof pattern !== 'object') return false;
  return Object.entries(pattern as Record<string, unknown>).every(([key, inner]) => {
    const field = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(inner) && inner.some((entry) => isOperator(entry, 'exists')))
      return inner.some((entry) => matchesEntry(field, entry));
    if (field === undefined) return false;
    return matchesPattern(field, inner);
  });
}
const isOperator = (entry: unknown, name: string) =>
  entry !== null && typeof entry === 'object' && !Array.isArray(entry) && name in entry;
function matchesEntry(value: unknown, entry: unknown): boolean {
  if (entry === null || typeof entry !== 'object') return value === entry;
  const operator = entry as Record<string, unknown>;
  if ('exists' in operator) return (value !== undefined) === operator.exists;
  if ('prefix' in operator) return typeof value === 'string' && value.startsWith(String(operator.prefix));
  if ('anything-but' in operator) {
    const excluded = operator['anything-but'];
    return value !== undefined && !(Array.isArray(excluded) ? excluded : [excluded]).includes(value);
  }
  if ('numeric' in operator) {
    const [op, bound, op2, bound2] = operator.numeric as [string, number, string?, number?];
    const compare = (o: string | undefined, b: number | undefined, v: number) =>
      o === undefined ||
      (o === '='
        ? v === b
        : o === '<'
          ? v < Number(b)
          : o === '<='
            ? v <= Number(b)
            : o === '>'
              ? v > Number(b)
              : v >= Number(b));
    const n = Number(value);
    return value !== undefined && !Number.isNaN(n) && compare(op, bound, n) && compare(op2, bound2, n);
  }
  return false;
}

/**
 * A record as the Lambda event carries it: the SDK reads `ApproximateCreationDateTime` as a Date and binary
 * attributes as bytes; the event has epoch seconds and base64 text, as the Streams API sends them.
 */
function eventRecord(record: StreamsRecord, streamArn: string): Record<string, unknown> {
  const plain = (value: unknown): unknown => {
    if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
    if (value instanceof Date) return Math.floor(value.getTime() / 1000);
    if (Array.isArray(value)) return value.map(plain);
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(
        Object.entries(value)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, plain(v)]),
      );
    return value;
  };
  return { ...(plain(record) as Record<string, unknown>), eventSourceARN: streamArn };
}

interface Segment {
  records: StreamsRecord[];
  attempts: number;
}

export interface EventSourceMappingOptions {
  functions: Pick<LocalFunctions, 'invoke' | 'definitions'>;
  /** The DynamoDB endpoint (the Streams API is served on it, as DynamoDB Local serves it). */
  endpoint: string;
  log?: InvokerLog;
  /** Pause between empty polls of a shard (Lambda polls each shard about four times a second). */
  pollIntervalMs?: number;
  /** Pause before retrying a failed or throttled batch. */
  retryIntervalMs?: number;
}

class Mapping {
  private readonly client: DynamoDBStreamsClient;
  private running = true;
  private state: MappingStatus['state'];
  private reason: string | undefined;
  private invocations = 0;
  private polls = 0;
  private wake: (() => void) | undefined;
  private readonly waiters: { afterPoll: number; resolve: () => void; reject: (error: Error) => void }[] = [];
  readonly done: Promise<void>;

  constructor(
    readonly definition: EventSourceMappingDefinition,
    private readonly options: EventSourceMappingOptions,
    private readonly failures: OnFailureRecord[],
  ) {
    const role = options.functions.definitions.find((fn) => fn.logicalId === definition.functionId)?.role;
    // Lambda reads the stream as the function's execution role, but from the Lambda service, not from the function's
    // VPC: a VPC configuration applies to the function's own calls ("Giving Lambda functions access to resources in
    // an Amazon VPC", AWS Lambda Developer Guide), while the event source mapping's poller is Lambda's. Its session
    // is not the function's (local/iam/gate.ts routes a function's session through the VPC), and the key stays
    // letters and digits (credentials.ts).
    const variables = role ? roleCredentialVariables(role, `EventSourceMapping${definition.functionId}`) : undefined;
    this.client = new DynamoDBStreamsClient({
      endpoint: options.endpoint,
      region: LOCAL_REGION,
      credentials: variables
        ? {
            accessKeyId: variables.AWS_ACCESS_KEY_ID as string,
            secretAccessKey: variables.AWS_SECRET_ACCESS_KEY as string,
            sessionToken: variables.AWS_SESSION_TOKEN as string,
          }
        : LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    this.state = definition.enabled ? 'Enabled' : 'Disabled';
    this.done = definition.enabled ? this.run() : Promise.resolve();
  }

  status(): MappingStatus {
    return {
      id: this.definition.id,
      state: this.state,
      ...(this.reason ? { reason: this.reason } : {}),
      invocations: this.invocations,
    };
  }

  drain(): Promise<void> {
    if (this.state === 'Disabled') return Promise.resolve();
    if (this.state === 'Failed') return Promise.reject(new Error(`${this.definition.id}: ${this.reason}`));
    return new Promise((resolve, reject) => {
      // Done once a poll that begins after this call finds nothing more (everything before it was delivered).
      this.waiters.push({ afterPoll: this.polls + 1, resolve, reject });
      this.wake?.();
    });
  }

  async close(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.done;
    this.client.destroy();
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** An iterator after a record, or at a position (TRIM_HORIZON, LATEST). */
  private async iteratorAt(
    shardId: string,
    position: { after: string } | { type: 'TRIM_HORIZON' | 'LATEST' },
  ): Promise<string | undefined> {
    const answer = await this.client.send(
      new GetShardIteratorCommand({
        StreamArn: this.definition.streamArn,
        ShardId: shardId,
        ...('after' in position
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: position.after }
          : { ShardIteratorType: position.type }),
      }),
    );
    return answer.ShardIterator;
  }

  private async run(): Promise<void> {
    let iterator: string | undefined;
    let shardId: string;
    /** The last record read: an expired iterator (15 minutes) is renewed after it, as Lambda's poller does. */
    let lastRead: string | undefined;
    /** After a renewal at the trim horizon: the records up to here were read before and are skipped. */
    let skipThrough: bigint | undefined;
    try {
      const described = await this.client.send(new DescribeStreamCommand({ StreamArn: this.definition.streamArn }));
      shardId = described.StreamDescription?.Shards?.[0]?.ShardId ?? '';
      iterator = await this.iteratorAt(shardId, { type: this.definition.startingPosition });
    } catch (error) {
      return this.fail(error as Error);
    }
    let batch: StreamsRecord[] = [];
    let batchStarted = 0;
    while (this.running && iterator) {
      const poll = ++this.polls;
      let records: StreamsRecord[];
      try {
        const answer = await this.client.send(
          new GetRecordsCommand({
            ShardIterator: iterator,
            Limit: Math.min(1000, this.definition.batchSize - batch.length),
          }),
        );
        records = answer.Records ?? [];
        iterator = answer.NextShardIterator;
      } catch (error) {
        const { name } = error as Error;
        if (name !== 'ExpiredIteratorException' && name !== 'TrimmedDataAccessException')
          return this.fail(error as Error);
        try {
          if (name === 'ExpiredIteratorException')
            // Iterators last 15 minutes: a new one after the last record read, as Lambda's poller does.
            iterator = await this.iteratorAt(
              shardId,
              lastRead === undefined ? { type: this.definition.startingPosition } : { after: lastRead },
            );
          else {
            // The position is gone ("a stream record in the shard exceeds the 24 hour period and is trimmed",
            // DynamoDB Streams API Reference, TrimmedDataAccessException): Lambda discards what it can no longer
            // read and "continues processing batches from the stream" (AWS Lambda Developer Guide, "Retaining
            // discarded records for a DynamoDB event source"). DynamoDB Local also answers it for an iterator at a
            // sequence number it skipped.
            this.options.log?.({
              level: 'WARN',
              message: 'event source mapping resumed at the trim horizon',
              mapping: this.definition.id,
            });
            skipThrough = lastRead === undefined ? undefined : BigInt(lastRead);
            iterator = await this.iteratorAt(shardId, { type: 'TRIM_HORIZON' });
          }
          continue;
        } catch (renewal) {
          return this.fail(renewal as Error);
        }
      }
      // An empty read is the end of what there is; after a renewal at the trim horizon, records read before are
      // read again and skipped, and the reading goes on.
      const read = records.length;
      if (skipThrough !== undefined) {
        const through = skipThrough;
        records = records.filter((record) => BigInt(record.dynamodb?.SequenceNumber ?? '0') > through);
        if (records.length > 0) skipThrough = undefined;
      }
      lastRead = records[records.length - 1]?.dynamodb?.SequenceNumber ?? lastRead;
      const kept = this.definition.filters.length
        ? records.filter((record) => {
            const event = eventRecord(record, this.definition.streamArn);
            return this.definition.filters.some((filter) => matchesPattern(event, filter));
          })
        : records;
      if (kept.length && !batch.length) batchStarted = Date.now();
      batch.push(...kept);
      const full = batch.length >= this.definition.batchSize;
      const windowLeft = this.definition.maximumBatchingWindowMs - (Date.now() - batchStarted);
      // A drain does not wait for the batching window: what is read is delivered at once.
      if (batch.length && (full || windowLeft <= 0 || this.waiters.length)) {
        await this.deliver(batch, shardId);
        batch = [];
      }
      if (read === 0) {
        if (batch.length === 0)
          for (const waiter of this.waiters.filter((w) => w.afterPoll <= poll)) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        const interval = this.options.pollIntervalMs ?? 250;
        if (this.running) await this.sleep(batch.length ? Math.max(0, Math.min(interval, windowLeft)) : interval);
      }
    }
  }

  private fail(error: Error): void {
    this.state = 'Failed';
    // Lambda's words when the role cannot read the stream (CreateEventSourceMapping's InvalidParameterValueException).
    this.reason =
      error.name === 'AccessDeniedException'
        ? `Cannot access stream ${this.definition.streamArn}. Please ensure the role can perform the GetRecords, ` +
          `GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM. (${error.message})`
        : `${error.name}: ${error.message}`;
    this.options.log?.({
      level: 'ERROR',
      message: 'event source mapping failed',
      mapping: this.definition.id,
      reason: this.reason,
    });
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`${this.definition.id}: ${this.reason}`));
  }

  /** One batch to the function: retried, split and finally sent on failure as the mapping says. */
  private async deliver(records: StreamsRecord[], shardId: string): Promise<void> {
    const pending: Segment[] = [{ records, attempts: 0 }];
    while (pending.length && this.running) {
      const segment = pending.shift() as Segment;
      const outcome = await this.invoke(segment.records);
      if (outcome.kind === 'ok') continue;
      if (outcome.kind === 'throttled') {
        pending.unshift(segment);
        await this.sleep(this.options.retryIntervalMs ?? 100);
        continue;
      }
      const failed = outcome.kind === 'partial' ? segment.records.slice(outcome.from) : segment.records;
      const exhausted =
        this.definition.maximumRetryAttempts >= 0 && segment.attempts >= this.definition.maximumRetryAttempts;
      if (outcome.kind === 'error' && this.definition.bisectBatchOnFunctionError && failed.length > 1 && !exhausted) {
        const half = Math.ceil(failed.length / 2);
        pending.unshift(
          { records: failed.slice(0, half), attempts: segment.attempts },
          {
            records: failed.slice(half),
            attempts: segment.attempts,
          },
        );
      } else if (!exhausted) {
        pending.unshift({ records: failed, attempts: segment.attempts + 1 });
        await this.sleep(this.options.retryIntervalMs ?? 100);
      } else this.sendOnFailure(failed, segment.attempts + 1, shardId, outcome.functionError);
    }
  }

  private async invoke(
    records: StreamsRecord[],
  ): Promise<
    { kind: 'ok' } | { kind: 'throttled' } | { kind: 'error' | 'partial'; from: number; functionError: string }
  > {
    const event = { Records: records.map((record) => eventRecord(record, this.definition.streamArn)) };
    this.invocations += 1;
    let result: unknown;
    try {
      result = await this.options.functions.invoke(this.definition.functionId, event);
    } catch (error) {
      if (error instanceof LambdaServiceError && error.statusCode === 429) return { kind: 'throttled' };
      return { kind: 'error', from: 0, functionError: 'Unhandled' };
    }
    if (!this.definition.reportBatchItemFailures) return { kind: 'ok' };
    const failures = (result as { batchItemFailures?: { itemIdentifier?: unknown }[] } | null)?.batchItemFailures;
    if (!Array.isArray(failures) || failures.length === 0) return { kind: 'ok' };
    const positions = failures.map((failure) =>
      records.findIndex((record) => record.dynamodb?.SequenceNumber === failure?.itemIdentifier),
    );
    // An identifier that is missing or names no record of the batch fails the whole batch.
    if (positions.some((position) => position < 0)) return { kind: 'error', from: 0, functionError: 'Unhandled' };
    return { kind: 'partial', from: Math.min(...positions), functionError: 'Unhandled' };
  }

  private sendOnFailure(records: StreamsRecord[], invokeCount: number, shardId: string, functionError: string): void {
    const first = records[0];
    const last = records[records.length - 1];
    const arrival = (record: StreamsRecord | undefined) =>
      new Date(record?.dynamodb?.ApproximateCreationDateTime ?? Date.now()).toISOString();
    const failure: OnFailureRecord = {
      mapping: this.definition.id,
      destination: this.definition.onFailureDestination,
      requestContext: {
        requestId: randomUUID(),
        functionArn: this.definition.functionArn,
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: invokeCount,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: first?.dynamodb?.SequenceNumber ?? '',
        endSequenceNumber: last?.dynamodb?.SequenceNumber ?? '',
        approximateArrivalOfFirstRecord: arrival(first),
        approximateArrivalOfLastRecord: arrival(last),
        batchSize: records.length,
        streamArn: this.definition.streamArn,
      },
    };
    this.failures.push(failure);
    this.options.log?.({
      level: 'ERROR',
      message: this.definition.onFailureDestination
        ? 'event source mapping: batch sent to its on-failure destination'
        : 'event source mapping: batch discarded after its retries (no on-failure destination)',
      ...failure,
    });
  }
}

export function startEventSourceMappings(
  definitions: EventSourceMappingDefinition[],
  options: EventSourceMappingOptions,
): EventSourceMappings {
  const failures: OnFailureRecord[] = [];
  const mappings = definitions.map((definition) => new Mapping(definition, options, failures));
  return {
    definitions,
    drain: async () => {
      await Promise.all(mappings.map((mapping) => mapping.drain()));
    },
    failures: () => [...failures],
    status: () => mappings.map((mapping) => mapping.status()),
    close: async () => {
      await Promise.all(mappings.map((mapping) => mapping.close()));
    },
  };
}
