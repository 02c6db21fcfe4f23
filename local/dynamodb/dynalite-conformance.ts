/**
 * Where dynalite 4 departs from DynamoDB in a way the product relies on, made to behave as DynamoDB
 * documents. Applied once in the DynamoDB-API server's own process (dynalite-process.ts) and held by
 * tests/emulator/dynamodb-conformance.test.ts, which runs on dynalite and on DynamoDB Local.
 *
 * `ReturnValuesOnConditionCheckFailure`: "Use ReturnValuesOnConditionCheckFailure to get the item
 * attributes if the condition check fails. For ReturnValuesOnConditionCheckFailure, the valid values
 * are: NONE and ALL_OLD." With ALL_OLD the ConditionalCheckFailedException carries the item as it was
 * when its condition was checked (`Item`), and nothing when there is no item ("UpdateItem", "PutItem",
 * "DeleteItem", Amazon DynamoDB API Reference:
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html). dynalite
 * drops the parameter while validating the request (its validation keeps only the members it knows)
 * and never returns the item. Here the three operations' validations learn the member (so an unknown
 * value is refused, with DynamoDB's enum message), and every conditional write, which dynalite checks
 * through `db.checkConditional` while it holds the item's lock, attaches the item the condition saw.
 */

interface DynaliteError extends Error {
  body?: { __type?: string; message?: string; Item?: unknown };
}
interface DynaliteDb {
  checkConditional(data: Record<string, unknown>, existingItem: unknown): DynaliteError | null | undefined;
}
interface DynaliteValidation {
  types: Record<string, unknown>;
}

const CONDITIONAL_WRITES = ['updateItem', 'putItem', 'deleteItem'];

let applied = false;

export function applyDynaliteConformance(): void {
  if (applied) return;
  applied = true;
  for (const operation of CONDITIONAL_WRITES) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const validation = require(`dynalite/validations/${operation}`) as DynaliteValidation;
    validation.types.ReturnValuesOnConditionCheckFailure = { type: 'String', enum: ['ALL_OLD', 'NONE'] };
  }
  // The module every dynalite action calls through (`db.checkConditional(...)` at call time).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const db = require('dynalite/db') as DynaliteDb;
  const checkConditional = db.checkConditional.bind(db);
  db.checkConditional = (data, existingItem) => {
    const refusal = checkConditional(data, existingItem);
    if (refusal?.body && data.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && existingItem != null)
      refusal.body.Item = existingItem;
    return refusal;
  };
}
