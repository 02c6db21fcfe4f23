/**
 * The CSV exports (Tenable/Nessus, Tenable VM, OpenVAS, Qualys) are read with csv-parse through this
 * one driver, so every CSV format bounds a record and refuses a broken file the same way: a record
 * over IMPORT_LIMITS.maxRecordBytes, a quote never closed at the end (truncated), any other CSV error.
 */
import { parse, type Options } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { pipeline, Readable } from 'node:stream';
import { IMPORT_LIMITS } from './input';
import { MalformedExportError, NotAScanExportError } from './records';

export interface CsvOptions {
  /** `,` unless the format says otherwise (Tenable VM writes `;`). */
  delimiter?: string;
  /** Leading lines that are not the header (Qualys reports start with a title block). */
  fromLine?: number;
}

const parserOptions = (options: CsvOptions): Options => ({
  bom: true,
  delimiter: options.delimiter ?? ',',
  relax_column_count: true,
  skip_empty_lines: true,
  max_record_size: IMPORT_LIMITS.maxRecordBytes,
  ...(options.fromLine === undefined ? {} : { from_line: options.fromLine }),
});

/**
 * The records of a CSV file, each a list of cells, the header included. `isHeaderRead` tells whether
 * the reader has recognised a header yet: a CSV error before that is "not an export", after it "malformed".
 */
export async function* readCsv(
  input: AsyncIterable<string>,
  options: CsvOptions = {},
  isHeaderRead: () => boolean = () => true,
): AsyncGenerator<string[]> {
  const parser = parse(parserOptions(options));
  // pipeline, not pipe: an error of the input (invalid UTF-8) must reach the parser, or reading would wait forever.
  pipeline(Readable.from(input), parser, (error) => {
    if (error) parser.destroy(error);
  });
  try {
    yield* parser as AsyncIterable<string[]>;
  } catch (error) {
    if (error instanceof MalformedExportError || error instanceof NotAScanExportError) throw error;
    const code = (error as { code?: string }).code ?? '';
    const reason = (error as Error).message.slice(0, 160);
    if (code === 'CSV_MAX_RECORD_SIZE')
      throw new MalformedExportError(
        `has a record over ${IMPORT_LIMITS.maxRecordBytes} bytes, larger than a whole request`,
        'record-too-large',
      );
    if (code === 'CSV_QUOTE_NOT_CLOSED')
      throw new MalformedExportError('ends inside a quoted cell: the file is truncated', 'truncated');
    if (!isHeaderRead()) throw new NotAScanExportError(`it is not a CSV export (${reason})`);
    throw new MalformedExportError(`is not a well-formed CSV file (${reason})`);
  }
}

/** The first record of the start of a CSV file (its header), or undefined when it does not parse. */
export function csvHeaderOf(start: string, options: CsvOptions = {}): string[] | undefined {
  try {
    const records = parseSync(start, { ...parserOptions(options), to: 1 }) as string[][];
    return records[0];
  } catch {
    return undefined;
  }
}
