/**
 * DynamoDB Streams for the local DynamoDB-API server (dynalite has none; DynamoDB Local has them natively): the
 * stream records of every table whose `StreamSpecification` enables one, and the Streams API over them
 * (`DynamoDBStreams_20120810.ListStreams|DescribeStream|GetShardIterator|GetRecords`, served on the same endpoint
 * as DynamoDB Local serves it). What a record holds and how the API answers follow the Amazon DynamoDB Streams API
 * Reference (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Operations_Amazon_DynamoDB_Streams.html)
 * and "Change data capture for DynamoDB Streams" (Amazon DynamoDB Developer Guide):
 * - a record per item-level change, in the order of the changes, with `eventName` INSERT / MODIFY / REMOVE, `Keys`,
 *   and `OldImage` / `NewImage` as the stream's view type says; no record for a write that changes nothing;
 * - records are kept 24 hours; reading past the oldest kept is `TrimmedDataAccessException`;
 * - a shard iterator expires 15 minutes after it is returned (`ExpiredIteratorException`);
 * - GetRecords returns at most `Limit` records (1 to 1000, default 1000) and, while the shard is open, always a
 *   `NextShardIterator`.
 * One shard per stream (AWS splits shards as it likes; a reader follows them by their parent ids, which one shard
 * never needs). Records are kept in the server's memory: a restart keeps the table's stream ARN, not its records.
 * Pure: time comes from `now`, so retention and expiry are tested without waiting a day.
 */
import { LOCAL_REGION } from '../aws-local';

export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';
export type AttributeMap = Record<string, unknown>;

export interface StreamRecord {
  eventID: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  eventVersion: '1.1';
  eventSource: 'aws:dynamodb';
  awsRegion: string;
  dynamodb: {
    /** Seconds since the epoch, rounded down to the second (API Reference, StreamRecord). */
    ApproximateCreationDateTime: number;
    Keys: AttributeMap;
    NewImage?: AttributeMap;
    OldImage?: AttributeMap;
    SequenceNumber: string;
    SizeBytes: number;
    StreamViewType: StreamViewType;
  };
}

/** What a table description holds of its stream (CreateTable / DescribeTable's `TableDescription`). */
export interface StreamedTable {
  TableName: string;
  KeySchema: { AttributeName: string; KeyType: string }[];
  StreamSpecification?: { StreamEnabled: boolean; StreamViewType?: StreamViewType };
  LatestStreamArn?: string;
  LatestStreamLabel?: string;
}

export const RETENTION_MS = 24 * 60 * 60 * 1000;
export const ITERATOR_LIFETIME_MS = 15 * 60 * 1000;
export const MAX_GET_RECORDS_LIMIT = 1000;
const SHARD_ID = 'shardId-00000000000000000001-00000001';
/** Sequence numbers: decimal strings of one length, so they compare as text and as numbers alike. */
const SEQUENCE_DIGITS = 21;
const FIRST_SEQUENCE = 10n ** BigInt(SEQUENCE_DIGITS - 1);
const sequenceText = (value: bigint) => value.toString().padStart(SEQUENCE_DIGITS, '0');

/** An error the Streams API answers (HTTP 400, `__type` = `com.amazonaws.dynamodb.v20120810#<name>`). */
export class StreamsApiError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}
const validation = (message: string) => new StreamsApiError('ValidationException', message);
const notFound = (message: string) => new StreamsApiError('ResourceNotFoundException', message);

/** `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL`, the label the stream's creation time. */
export const streamArnOf = (tableArn: string, label: string) => `${tableArn}/stream/${label}`;
export const streamLabelAt = (epochMs: number) => new Date(epochMs).toISOString().replace(/Z$/, '');
const tableNameOfStream = (streamArn: string) => /:table\/([^/]+)\/stream\//.exec(streamArn)?.[1];

/** The stream a shard iterator reads (iterators begin with it, as AWS's do), for IAM's resource. */
export const streamArnOfIterator = (iterator: string) => iterator.slice(0, Math.max(0, iterator.indexOf('|')));

interface Stream {
  arn: string;
  label: string;
  tableName: string;
  keySchema: StreamedTable['KeySchema'];
  viewType: StreamViewType;
  createdMs: number;
  enabled: boolean;
  records: StreamRecord[];
  /** Arrival time of each record (milliseconds), for retention. */
  arrivals: number[];
  next: bigint;
  /** The highest sequence number trimmed away (FIRST_SEQUENCE - 1 while none). */
  trimmedThrough: bigint;
}

interface IteratorState {
  arn: string;
  /** Records with a sequence number above this one are next. */
  after: string;
  issuedMs: number;
}

/** `Item` of the image the view type keeps (API Reference, StreamSpecification). */
function imagesOf(viewType: StreamViewType, oldItem: AttributeMap | undefined, newItem: AttributeMap | undefined) {
  return {
    ...(newItem && (viewType === 'NEW_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES') ? { NewImage: newItem } : {}),
    ...(oldItem && (viewType === 'OLD_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES') ? { OldImage: oldItem } : {}),
  };
}

/** An attribute value with set members sorted, so two items compare equal when DynamoDB holds them equal. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(
    entries.map(([key, member]) => [
      key,
      (key === 'SS' || key === 'NS' || key === 'BS') && Array.isArray(member)
        ? [...(member as string[])].sort()
        : canonical(member),
    ]),
  );
}
export const sameItem = (a: AttributeMap | undefined, b: AttributeMap | undefined) =>
  JSON.stringify(canonical(a ?? null)) === JSON.stringify(canonical(b ?? null));

export class StreamStore {
  private readonly streams = new Map<string, Stream>();
  /** Table name → its stream's ARN, while enabled. */
  private readonly latest = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * A table's description as CreateTable / UpdateTable leave it: a `StreamSpecification` with StreamEnabled
   * gives the table a stream (new label, new ARN) unless it has one with that view type already; StreamEnabled
   * false disables it. Called with every description the server stores, and with those it finds on start.
   */
  describeTable<T extends StreamedTable & { TableArn?: string }>(table: T): T {
    const specification = table.StreamSpecification;
    const current = table.LatestStreamArn ? this.streams.get(table.LatestStreamArn) : undefined;
    if (specification?.StreamEnabled && specification.StreamViewType) {
      if (table.LatestStreamArn && table.LatestStreamLabel && (!current || current.enabled)) {
        // Known (this process created it) or read back from a persisted store: the ARN stays.
        this.adopt(table, table.LatestStreamArn, table.LatestStreamLabel, specification.StreamViewType);
        return table;
      }
      const createdMs = Math.max(this.now(), ...[...this.streams.values()].map((stream) => stream.createdMs + 1));
      const label = streamLabelAt(createdMs);
      const arn = streamArnOf(table.TableArn ?? '', label);
      this.adopt(table, arn, label, specification.StreamViewType, createdMs);
      return Object.assign(table, { LatestStreamArn: arn, LatestStreamLabel: label });
    }
    // Disabled, or a table of that name created again without one (DeleteTable ends a table's stream).
    const latest = this.streams.get(this.latest.get(table.TableName) ?? '');
    if (latest && (latest.arn !== table.LatestStreamArn || specification?.StreamEnabled === false)) {
      latest.enabled = false;
      this.latest.delete(table.TableName);
    }
    return table;
  }

  private adopt(table: StreamedTable, arn: string, label: string, viewType: StreamViewType, createdMs?: number): void {
    if (!this.streams.has(arn))
      this.streams.set(arn, {
        arn,
        label,
        tableName: table.TableName,
        keySchema: table.KeySchema,
        viewType,
        createdMs: createdMs ?? Date.parse(`${label}Z`),
        enabled: true,
        records: [],
        arrivals: [],
        next: FIRST_SEQUENCE,
        trimmedThrough: FIRST_SEQUENCE - 1n,
      });
    const previous = this.streams.get(this.latest.get(table.TableName) ?? '');
    if (previous && previous.arn !== arn) previous.enabled = false;
    this.latest.set(table.TableName, arn);
  }

  /** Whether writes to `tableName` are recorded. */
  streaming(tableName: string): boolean {
    return this.latest.has(tableName);
  }

  /**
   * One committed write of one item: `oldItem` before, `newItem` after (undefined = no item). Nothing is recorded
   * when the item is unchanged, or when the table has no enabled stream. Called in commit order, under the item's lock.
   */
  append(
    tableName: string,
    keys: AttributeMap,
    oldItem: AttributeMap | undefined,
    newItem: AttributeMap | undefined,
    sizeBytes: number,
  ): void {
    const arn = this.latest.get(tableName);
    const stream = arn === undefined ? undefined : this.streams.get(arn);
    if (!stream || (!oldItem && !newItem) || sameItem(oldItem, newItem)) return;
    const now = this.now();
    this.trim(stream, now);
    const sequence = stream.next;
    stream.next += 1n;
    stream.records.push({
      eventID: `${stream.label}-${sequence.toString(16)}`,
      eventName: !oldItem ? 'INSERT' : !newItem ? 'REMOVE' : 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: LOCAL_REGION,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(now / 1000),
        Keys: keys,
        ...imagesOf(stream.viewType, oldItem, newItem),
        SequenceNumber: sequenceText(sequence),
        SizeBytes: sizeBytes,
        StreamViewType: stream.viewType,
      },
    });
    stream.arrivals.push(now);
  }

  /** Drops the records older than the retention period. */
  private trim(stream: Stream, now: number): void {
    let drop = 0;
    while (drop < stream.arrivals.length && (stream.arrivals[drop] as number) <= now - RETENTION_MS) drop += 1;
    if (drop === 0) return;
    stream.trimmedThrough = BigInt((stream.records[drop - 1] as StreamRecord).dynamodb.SequenceNumber);
    stream.records.splice(0, drop);
    stream.arrivals.splice(0, drop);
  }

  private stream(arn: unknown): Stream {
    const stream = typeof arn === 'string' ? this.streams.get(arn) : undefined;
    if (!stream) throw notFound(`Requested resource not found: Stream: ${String(arn)} not found`);
    this.trim(stream, this.now());
    return stream;
  }

  /** One Streams API call: the operation's answer, or a StreamsApiError. */
  call(operation: string, body: Record<string, unknown>): Record<string, unknown> {
    switch (operation) {
      case 'ListStreams':
        return this.listStreams(body);
      case 'DescribeStream':
        return this.describeStream(body);
      case 'GetShardIterator':
        return this.getShardIterator(body);
      case 'GetRecords':
        return this.getRecords(body);
      default:
        throw new StreamsApiError('UnknownOperationException', `Unknown operation: ${operation}`);
    }
  }

  private listStreams(body: Record<string, unknown>): Record<string, unknown> {
    const limit = Number(body.Limit ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw validation('Limit must be between 1 and 100');
    const all = [...this.streams.values()]
      .filter((stream) => body.TableName === undefined || stream.tableName === body.TableName)
      .sort((a, b) => (a.arn < b.arn ? -1 : 1));
    const start =
      body.ExclusiveStartStreamArn === undefined ? 0 : all.findIndex((s) => s.arn === body.ExclusiveStartStreamArn) + 1;
    const page = all.slice(start, start + limit);
    return {
      Streams: page.map((stream) => ({
        StreamArn: stream.arn,
        StreamLabel: stream.label,
        TableName: stream.tableName,
      })),
      ...(start + limit < all.length ? { LastEvaluatedStreamArn: page[page.length - 1]?.arn } : {}),
    };
  }

  private describeStream(body: Record<string, unknown>): Record<string, unknown> {
    const stream = this.stream(body.StreamArn);
    const last = stream.next - 1n;
    return {
      StreamDescription: {
        StreamArn: stream.arn,
        StreamLabel: stream.label,
        StreamStatus: stream.enabled ? 'ENABLED' : 'DISABLED',
        StreamViewType: stream.viewType,
        CreationRequestDateTime: stream.createdMs / 1000,
        TableName: stream.tableName,
        KeySchema: stream.keySchema,
        Shards: [
          {
            ShardId: SHARD_ID,
            SequenceNumberRange: {
              StartingSequenceNumber: sequenceText(FIRST_SEQUENCE),
              // A disabled stream's shard is closed: its range ends (API Reference, SequenceNumberRange).
              ...(stream.enabled
                ? {}
                : { EndingSequenceNumber: sequenceText(last < FIRST_SEQUENCE ? FIRST_SEQUENCE : last) }),
            },
          },
        ],
      },
    };
  }

  private getShardIterator(body: Record<string, unknown>): Record<string, unknown> {
    const stream = this.stream(body.StreamArn);
    if (body.ShardId !== SHARD_ID)
      throw notFound(`Requested resource not found: Shard: ${String(body.ShardId)} in Stream: ${stream.arn} not found`);
    const type = body.ShardIteratorType;
    const number =
      typeof body.SequenceNumber === 'string' && /^\d{1,40}$/.test(body.SequenceNumber)
        ? BigInt(body.SequenceNumber)
        : undefined;
    let after: bigint;
    switch (type) {
      case 'TRIM_HORIZON':
        after = stream.trimmedThrough;
        break;
      case 'LATEST':
        after = stream.next - 1n;
        break;
      case 'AT_SEQUENCE_NUMBER':
      case 'AFTER_SEQUENCE_NUMBER': {
        if (number === undefined) throw validation(`A SequenceNumber is required for ShardIteratorType ${type}`);
        // A number beyond the latest record is accepted, as DynamoDB Local accepts it: the iterator waits there.
        if (number < FIRST_SEQUENCE)
          throw validation(`Invalid SequenceNumber ${String(body.SequenceNumber)} for shard ${SHARD_ID}`);
        if (number <= stream.trimmedThrough)
          throw new StreamsApiError(
            'TrimmedDataAccessException',
            'The requested sequence number is beyond the trim horizon',
          );
        after = type === 'AT_SEQUENCE_NUMBER' ? number - 1n : number;
        break;
      }
      default:
        throw validation(
          `1 validation error detected: Value '${String(type)}' at 'shardIteratorType' failed to satisfy constraint: ` +
            'Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]',
        );
    }
    return { ShardIterator: this.iterator({ arn: stream.arn, after: sequenceText(after), issuedMs: this.now() }) };
  }

  private iterator(state: IteratorState): string {
    return `${state.arn}|1|${Buffer.from(JSON.stringify([state.after, state.issuedMs])).toString('base64url')}`;
  }

  private readIterator(iterator: unknown): IteratorState {
    const text = typeof iterator === 'string' ? iterator : '';
    const arn = streamArnOfIterator(text);
    try {
      const [after, issuedMs] = JSON.parse(Buffer.from(text.slice(arn.length + 3), 'base64url').toString()) as [
        string,
        number,
      ];
      if (arn && /^\d+$/.test(after) && typeof issuedMs === 'number') return { arn, after, issuedMs };
    } catch {
      // answered below
    }
    throw validation('Invalid ShardIterator');
  }

  private getRecords(body: Record<string, unknown>): Record<string, unknown> {
    const limit = Number(body.Limit ?? MAX_GET_RECORDS_LIMIT);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_GET_RECORDS_LIMIT)
      throw validation(`Limit must be between 1 and ${MAX_GET_RECORDS_LIMIT}`);
    const state = this.readIterator(body.ShardIterator);
    if (this.now() - state.issuedMs > ITERATOR_LIFETIME_MS)
      throw new StreamsApiError(
        'ExpiredIteratorException',
        'Iterator expired. The iterator was created more than 15 minutes ago.',
      );
    const stream = this.stream(state.arn);
    const after = BigInt(state.after);
    if (after < stream.trimmedThrough)
      throw new StreamsApiError(
        'TrimmedDataAccessException',
        'The operation attempted to read past the oldest stream record in a shard',
      );
    // Records are numbered consecutively from the first kept one.
    const firstKept = stream.trimmedThrough + 1n;
    const start = Number(after + 1n - firstKept);
    const records = stream.records.slice(start, start + limit);
    const lastRead = records.length
      ? BigInt((records[records.length - 1] as StreamRecord).dynamodb.SequenceNumber)
      : after;
    const drained = lastRead >= stream.next - 1n;
    return {
      Records: records,
      // A closed shard read to its end has no next iterator (API Reference, GetRecords).
      ...(stream.enabled || !drained
        ? { NextShardIterator: this.iterator({ arn: stream.arn, after: sequenceText(lastRead), issuedMs: this.now() }) }
        : {}),
    };
  }

  /** The table a stream ARN belongs to (undefined if malformed). */
  static tableOf(streamArn: string): string | undefined {
    return tableNameOfStream(streamArn);
  }
}
