/**
 * DynamoDB condition and filter expressions written flat: an OR of ANDs of atoms (comparisons, `NOT`
 * comparisons, functions), never parentheses around a sub-expression. In DynamoDB's grammar NOT binds
 * tighter than AND, and AND tighter than OR ("Precedence in conditions", Comparison operator and
 * function reference, Amazon DynamoDB Developer Guide:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html),
 * so `a AND b OR c` means `(a AND b) OR c`.
 *
 * Why flat: a server parses every expression of every request, and the local DynamoDB-API server's
 * parser (dynalite's PEG grammar) backtracks on nested parentheses: the GET list's default filter took
 * 363 ms per request nested, under 1 ms flat; the ingest upsert's condition 10 ms, 0.3 ms flat
 * (docs/performance.md). tests/unit/condition.test.ts holds the form; the lifecycle and filter tests,
 * on dynalite and DynamoDB Local, hold the meaning.
 */

/** Atoms that must all hold. */
export type Conjunction = readonly string[];
/** Conjunctions of which one must hold (an empty list holds for nothing; `[[]]` for everything). */
export type Condition = readonly Conjunction[];

/** "The maximum length of any expression string is 4 KB" (Expression parameters, DynamoDB quotas). */
export const MAX_EXPRESSION_LENGTH = 4096;

/** All of `atoms`. */
export const all = (...atoms: string[]): Condition => [atoms];

/** Any of `conditions`. */
export const anyOf = (...conditions: Condition[]): Condition => conditions.flat();

/** Every one of `conditions`: the conjunctions of each multiplied out (distributes AND over OR). */
export const allOf = (...conditions: Condition[]): Condition =>
  conditions.reduce<Condition>((sum, next) => sum.flatMap((left) => next.map((right) => [...left, ...right])), [[]]);

/** The expression text; a condition that holds for nothing or everything has none to write. */
export function render(condition: Condition): string {
  if (condition.length === 0 || condition.some((conjunction) => conjunction.length === 0))
    throw new Error('a condition that always or never holds is not an expression');
  const text = condition.map((conjunction) => conjunction.join(' AND ')).join(' OR ');
  if (text.length > MAX_EXPRESSION_LENGTH)
    throw new Error(`expression of ${text.length} characters exceeds DynamoDB's ${MAX_EXPRESSION_LENGTH}`);
  return text;
}
