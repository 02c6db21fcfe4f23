/**
 * DynamoDB Streams in dynalite's process (streams.ts holds the records and answers the API). Where dynalite commits
 * a write, the write's old and new item are captured: every item write (PutItem, UpdateItem, DeleteItem, and
 * BatchWriteItem, which runs PutItem and DeleteItem per item; dynalite has no TransactWriteItems) reads the item
 * under its key's lock, calls `db.updateIndexes(store, table, oldItem, newItem)` and then stores the new item with
 * the item store's `put` (or removes it with `del`) before releasing the lock. The images are taken at
 * `updateIndexes` and the record is appended when `put` / `del` succeeds, still under the lock, so records follow
 * the commits, per item, even with concurrent writers; a refused conditional write never reaches `updateIndexes`.
 * Table descriptions carry the stream (`StreamSpecification`, `LatestStreamArn`, `LatestStreamLabel`) as they are
 * stored, so CreateTable and DescribeTable answer them and a persisted store keeps the ARN. UpdateTable with a
 * `StreamSpecification` (which dynalite does not know) is answered here.
 */
import { StreamStore, StreamsApiError, type AttributeMap, type StreamedTable } from './streams';

interface ItemStore {
  put(key: string, value: unknown, callback: (error?: Error | null) => void): void;
  del(key: string, callback: (error?: Error | null) => void): void;
  get(key: string, callback: (error: Error | null, value?: unknown) => void): void;
  lock(key: string, work: (release: <F extends (...args: never[]) => void>(callback: F) => F) => void): void;
  createValueStream?(): AsyncIterable<unknown> & NodeJS.ReadableStream;
  streamsPatched?: boolean;
}
interface DynaliteStore {
  tableDb: ItemStore;
  getItemDb(tableName: string): ItemStore;
}
type Table = StreamedTable & { TableArn?: string; TableStatus?: string };
interface DynaliteDb {
  create(options: unknown): DynaliteStore;
  updateIndexes(
    store: DynaliteStore,
    table: Table,
    oldItem: AttributeMap | undefined,
    newItem: AttributeMap | undefined | null,
    callback: (error?: Error | null) => void,
  ): void;
  createKey(item: AttributeMap, table: Table): string;
  itemSize(item: AttributeMap): number;
}
interface DynaliteValidation {
  types: Record<string, unknown>;
}

const VIEW_TYPES = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'];
const STREAM_SPECIFICATION = {
  type: 'FieldStruct<StreamSpecification>',
  children: {
    StreamEnabled: { type: 'Boolean', notNull: true },
    StreamViewType: { type: 'String', enum: VIEW_TYPES },
  },
};

interface Pending {
  keys: AttributeMap;
  oldItem: AttributeMap | undefined;
  newItem: AttributeMap | undefined;
  sizeBytes: number;
}

export interface DynaliteStreams {
  store: StreamStore;
  /** The answer to a Streams API call or a stream-changing UpdateTable; undefined when dynalite answers. */
  answer(target: string, body: Record<string, unknown>): Promise<{ status: number; payload: unknown } | undefined>;
}

/** Must run before `dynalite(...)` builds its store. */
export function applyDynaliteStreams(): DynaliteStreams {
  const streams = new StreamStore();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const createTable = require('dynalite/validations/createTable') as DynaliteValidation;
  createTable.types.StreamSpecification = STREAM_SPECIFICATION;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const db = require('dynalite/db') as DynaliteDb;
  let store: DynaliteStore | undefined;

  const create = db.create.bind(db);
  db.create = (options) => {
    store = create(options);
    const tables = store.tableDb;
    const put = tables.put.bind(tables);
    // Every description dynalite stores (CreateTable's, UpdateTable's) gets its stream; the object it answers is the same.
    tables.put = (key, value, callback) => put(key, streams.describeTable(value as Table), callback);
    void adoptPersistedStreams(tables, streams);
    return store;
  };

  const pending = new Map<string, Pending>();
  const patchItemStore = (tableName: string, items: ItemStore) => {
    if (items.streamsPatched) return;
    items.streamsPatched = true;
    const settle = (key: string, callback: (error?: Error | null) => void) => (error?: Error | null) => {
      const change = pending.get(`${tableName}\u0000${key}`);
      pending.delete(`${tableName}\u0000${key}`);
      if (!error && change) streams.append(tableName, change.keys, change.oldItem, change.newItem, change.sizeBytes);
      callback(error);
    };
    const put = items.put.bind(items);
    const del = items.del.bind(items);
    items.put = (key, value, callback) => put(key, value, settle(key, callback));
    items.del = (key, callback) => del(key, settle(key, callback));
  };

  const updateIndexes = db.updateIndexes.bind(db);
  db.updateIndexes = (dynaliteStore, table, oldItem, newItem, callback) => {
    if (table.LatestStreamArn && !streams.streaming(table.TableName)) streams.describeTable(table);
    const item = newItem ?? oldItem;
    if (item && streams.streaming(table.TableName)) {
      const keys = Object.fromEntries(table.KeySchema.map(({ AttributeName }) => [AttributeName, item[AttributeName]]));
      patchItemStore(table.TableName, dynaliteStore.getItemDb(table.TableName));
      pending.set(`${table.TableName}\u0000${db.createKey(item, table)}`, {
        keys,
        oldItem: oldItem ?? undefined,
        newItem: newItem ?? undefined,
        sizeBytes: db.itemSize(keys) + (oldItem ? db.itemSize(oldItem) : 0) + (newItem ? db.itemSize(newItem) : 0),
      });
    }
    updateIndexes(dynaliteStore, table, oldItem, newItem, callback);
  };

  return {
    store: streams,
    answer: async (target, body) => {
      const operation = target.slice(target.indexOf('.') + 1);
      try {
        if (target.startsWith('DynamoDBStreams_20120810.'))
          return { status: 200, payload: streams.call(operation, body) };
        if (operation === 'UpdateTable' && body.StreamSpecification !== undefined && store)
          return { status: 200, payload: await updateTableStream(store, streams, body) };
        return undefined;
      } catch (error) {
        if (!(error instanceof StreamsApiError)) throw error;
        return {
          status: 400,
          payload: { __type: `com.amazonaws.dynamodb.v20120810#${error.name}`, message: error.message },
        };
      }
    },
  };
}

/** A persisted store's tables keep their streams' ARNs (their records were in the previous process's memory). */
async function adoptPersistedStreams(tables: ItemStore, streams: StreamStore): Promise<void> {
  if (!tables.createValueStream) return;
  try {
    for await (const table of tables.createValueStream()) {
      const description = table as unknown as Table;
      if (description?.LatestStreamArn && description.TableName) streams.describeTable(description);
    }
  } catch {
    // An unreadable entry is dynalite's to report when the table is used.
  }
}

/**
 * UpdateTable's `StreamSpecification` ("UpdateTable", Amazon DynamoDB API Reference): enabling a stream on a table
 * that has an enabled one, or disabling a table's absent stream, is a ValidationException. Other changes in the
 * same request are not applied locally (the local stack sends none with it): refused rather than dropped.
 */
function updateTableStream(
  store: DynaliteStore,
  streams: StreamStore,
  body: Record<string, unknown>,
): Promise<unknown> {
  const others = Object.keys(body).filter((member) => member !== 'TableName' && member !== 'StreamSpecification');
  if (others.length)
    throw new StreamsApiError(
      'ValidationException',
      `The local DynamoDB-API server changes a stream alone; send ${others.join(', ')} in another UpdateTable`,
    );
  const specification = body.StreamSpecification as { StreamEnabled?: unknown; StreamViewType?: unknown };
  if (typeof specification?.StreamEnabled !== 'boolean')
    throw new StreamsApiError('ValidationException', 'StreamSpecification.StreamEnabled must be a boolean');
  if (specification.StreamEnabled && !VIEW_TYPES.includes(String(specification.StreamViewType)))
    throw new StreamsApiError(
      'ValidationException',
      'One or more parameter values were invalid: StreamViewType is required when StreamEnabled is true',
    );
  const name = String(body.TableName);
  return new Promise((resolveAnswer, reject) => {
    store.tableDb.lock(name, (release) => {
      const done = release((error: unknown, answer?: unknown) => (error ? reject(error) : resolveAnswer(answer)));
      store.tableDb.get(name, (error, value) => {
        const table = value as Table | undefined;
        if (error || !table)
          return done(new StreamsApiError('ResourceNotFoundException', 'Requested resource not found'));
        const enabled = table.StreamSpecification?.StreamEnabled === true;
        if (specification.StreamEnabled && enabled)
          return done(
            new StreamsApiError('ValidationException', `Table already has an enabled stream: ${table.LatestStreamArn}`),
          );
        if (!specification.StreamEnabled && !enabled)
          return done(new StreamsApiError('ValidationException', 'Table does not have an enabled stream'));
        table.StreamSpecification = specification.StreamEnabled
          ? { StreamEnabled: true, StreamViewType: specification.StreamViewType as never }
          : { StreamEnabled: false };
        if (specification.StreamEnabled) {
          delete table.LatestStreamArn;
          delete table.LatestStreamLabel;
        }
        store.tableDb.put(name, table, (putError) => done(putError ?? null, { TableDescription: table }));
      });
    });
  });
}
