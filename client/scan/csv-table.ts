/**
 * The rows of a CSV export as cells by column name, read as a stream with csv-parse: the header is
 * found by its column names (some exports, Qualys's, write report and company lines above it), a
 * column is found by any of its names (compared lower-cased without blanks, dots, dashes or
 * underscores), and a missing required column stops the read naming it.
 */
import { parse as parseSync } from 'csv-parse/sync';
import { readCsv } from './csv-stream';
import { utf8Text } from './input';
import { MalformedExportError } from './records';

/** Field → header names, first found wins. */
export type ColumnNames<Field extends string> = Record<Field, readonly string[]>;

export interface CsvTableSpec<Field extends string> {
  /** The format's name in messages ("OpenVAS CSV"). */
  format: string;
  delimiter: string;
  columns: ColumnNames<Field>;
  /** Fields without which a row means nothing; their first name is given when missing. */
  required: readonly NoInfer<Field>[];
  /** Lines of report title, company, user… allowed above the header (Qualys writes three). */
  preambleRows?: number;
}

/** One data row: a cell by field (trimmed, undefined when blank or the column is absent) and its record number. */
export interface CsvRow<Field extends string> {
  cell(field: Field): string | undefined;
  /** Whether the export has the column at all (a blank cell of a present column says "no"). */
  has(field: Field): boolean;
  /** The CSV record's number in the file, the lines above the header and the header counted. */
  record: number;
}

export const headerKey = (name: string) => name.toLowerCase().replace(/[\s._-]+/g, '');

function positionsOf<Field extends string>(header: string[], columns: ColumnNames<Field>): Map<Field, number> {
  const byKey = new Map<string, number>();
  header.forEach((name, index) => {
    const key = headerKey(name);
    if (key !== '' && !byKey.has(key)) byKey.set(key, index);
  });
  const positions = new Map<Field, number>();
  for (const [field, names] of Object.entries(columns) as [Field, readonly string[]][]) {
    const position = names.map((name) => byKey.get(headerKey(name))).find((found) => found !== undefined);
    if (position !== undefined) positions.set(field, position);
  }
  return positions;
}

/** Whether a row is the header: it names every required column. */
const isHeader = <Field extends string>(row: string[], spec: CsvTableSpec<Field>) =>
  requiredFound(row, spec) === spec.required.length;

/**
 * Streams the data rows of a CSV export (csv-stream.ts's driver: a record's size bound, a truncated
 * file refused). Rows of blank cells are left out. MalformedExportError when no header with the
 * required columns is found, naming what is missing.
 */
export async function* csvRows<Field extends string>(
  input: AsyncIterable<string | Buffer>,
  spec: CsvTableSpec<Field>,
): AsyncGenerator<CsvRow<Field>> {
  let positions: Map<Field, number> | undefined;
  let record = 0;
  /** The row above the header that names the most required columns: what a missing-column message is about. */
  let closest: string[] = [];
  for await (const cells of readCsv(utf8Text(input), { delimiter: spec.delimiter })) {
    record += 1;
    if (positions === undefined) {
      if (isHeader(cells, spec)) {
        positions = positionsOf(cells, spec.columns);
        continue;
      }
      if (requiredFound(cells, spec) > requiredFound(closest, spec)) closest = cells;
      if (record > (spec.preambleRows ?? 0)) throw missingColumns(closest.length > 0 ? closest : cells, spec);
      continue;
    }
    if (cells.every((value) => value.trim() === '')) continue;
    const found = positions;
    yield {
      record,
      has: (field) => found.has(field),
      cell: (field) => {
        const position = found.get(field);
        const value = position === undefined ? undefined : cells[position]?.trim();
        return value === '' ? undefined : value;
      },
    };
  }
  if (positions === undefined)
    throw closest.length > 0
      ? missingColumns(closest, spec)
      : new MalformedExportError(`has no ${spec.format} header row`);
}

function requiredFound<Field extends string>(row: string[], spec: CsvTableSpec<Field>): number {
  const positions = positionsOf(row, spec.columns);
  return spec.required.filter((field) => positions.has(field)).length;
}

function missingColumns<Field extends string>(row: string[], spec: CsvTableSpec<Field>): MalformedExportError {
  const positions = positionsOf(row, spec.columns);
  const missing = spec.required.filter((field) => !positions.has(field)).map((field) => spec.columns[field][0]);
  return new MalformedExportError(
    `has no ${missing.map((name) => `"${name}"`).join(', no ')} column: not a complete ${spec.format} header`,
  );
}

/** The start of a file up to its last line end outside a quoted cell: the sample may stop mid-record. */
function wholeRecordsOf(start: string): string {
  let quoted = false;
  let end = start.length;
  for (let index = 0; index < start.length; index += 1) {
    const code = start.charCodeAt(index);
    if (code === 0x22) quoted = !quoted;
    else if (code === 0x0a && !quoted) end = index + 1;
  }
  return quoted || !start.endsWith('\n') ? start.slice(0, end) : start;
}

/**
 * Whether one of the first `records` CSV records of the start of a file is a header naming all these
 * columns (for recognising a format; the start may end mid-record past them).
 */
export function startHasHeader(start: string, delimiter: string, names: readonly string[], records = 1): boolean {
  let rows: string[][];
  try {
    rows = parseSync(wholeRecordsOf(start), {
      bom: true,
      delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      to: records,
    });
  } catch {
    return false;
  }
  const wanted = names.map(headerKey);
  return rows.some((row) => {
    const keys = new Set(row.map(headerKey));
    return wanted.every((key) => keys.has(key));
  });
}
