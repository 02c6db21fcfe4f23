/**
 * The rows of a CSV export as cells by column name, read as a stream with csv-parse: the header is
 * found by its column names (some exports, Qualys's, write report and company lines above it), a
 * column is found by any of its names (compared lower-cased without blanks, dots, dashes or
 * underscores), and a missing required column stops the read naming it.
 */
import { parse } from 'csv-parse';
import { Readable } from 'node:stream';
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

/** One data row: a cell by field (trimmed, undefined when blank or the column is absent) and its line. */
export interface CsvRow<Field extends string> {
  cell(field: Field): string | undefined;
  /** Whether the export has the column at all (a blank cell of a present column says "no"). */
  has(field: Field): boolean;
  line: number;
}

export const headerKey = (name: string) => name.toLowerCase().replace(/[\s._-]+/g, '');

/** A CSV cell's own size bound: the longest text we keep is 8 KiB; plugin outputs of megabytes are not. */
const MAX_RECORD_BYTES = 4 * 1024 * 1024;

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
 * Streams the data rows of a CSV export. Rows of blank cells are left out. MalformedExportError when
 * no header with the required columns is found, or the CSV itself is broken (an unclosed quote, as in
 * a truncated file).
 */
export async function* csvRows<Field extends string>(
  input: AsyncIterable<string | Buffer>,
  spec: CsvTableSpec<Field>,
): AsyncGenerator<CsvRow<Field>> {
  const parser = Readable.from(input).pipe(
    parse({
      bom: true,
      delimiter: spec.delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: MAX_RECORD_BYTES,
      info: true,
    }),
  );
  let positions: Map<Field, number> | undefined;
  let rowsBefore = 0;
  /** The row above the header that names the most required columns: what a missing-column message is about. */
  let closest: string[] = [];
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (positions === undefined) {
        if (isHeader(record, spec)) {
          positions = positionsOf(record, spec.columns);
          continue;
        }
        if (requiredFound(record, spec) > requiredFound(closest, spec)) closest = record;
        rowsBefore += 1;
        if (rowsBefore > (spec.preambleRows ?? 0)) throw missingColumns(closest.length > 0 ? closest : record, spec);
        continue;
      }
      if (record.every((value) => value.trim() === '')) continue;
      const found = positions;
      yield {
        line: info.lines,
        has: (field) => found.has(field),
        cell: (field) => {
          const position = found.get(field);
          const value = position === undefined ? undefined : record[position]?.trim();
          return value === '' ? undefined : value;
        },
      };
    }
  } catch (error) {
    if (error instanceof MalformedExportError) throw error;
    // csv-parse's own errors (CSV_QUOTE_NOT_CLOSED for a truncated file, CSV_MAX_RECORD_SIZE…).
    throw new MalformedExportError(
      `is not a well-formed ${spec.format} file (${(error as Error).message.slice(0, 160)})`,
    );
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

/** Whether the first lines of a file hold a header naming all these columns (for recognising a format). */
export function startHasHeader(start: string, delimiter: string, names: readonly string[], lines = 1): boolean {
  const rows = start.replace(/^\uFEFF/, '').split(/\r?\n/, lines);
  const wanted = names.map(headerKey);
  return rows.some((row) => {
    const keys = new Set(row.split(delimiter).map((cell) => headerKey(cell.replace(/^"|"$/g, ''))));
    return wanted.every((key) => keys.has(key));
  });
}
