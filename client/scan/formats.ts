/**
 * The formats `npm run push` reads, in the order they are tried: each recognises its exports from the
 * start of the file's content (an XML root, a CSV header, a JSON document's top-level keys), never
 * from the file's name. `--format NAME` skips recognition. A reader lives in client/scan/<format>.ts.
 */
import type { Readable } from 'node:stream';
import { jsonKeyPaths } from './json-stream';
import { parseJsonFindings } from './json-findings';
import type { MappingOptions } from './mapping';
import { NESSUS_ROOT, parseNessus } from './nessus';
import { NotAScanExportError, type ParseStats, type ScanFormat, type ScanRecord } from './records';
import { isGrype, parseGrype } from './grype';
import { isOsv, parseOsv } from './osv';
import { isTenableCsv, parseTenableCsv } from './tenable-csv';
import { readAsff, recogniseAsff, SECURITY_HUB_SCANNER } from './asff';
import { INSPECTOR_SCANNER, readInspector2, recogniseInspector2 } from './inspector2';
import { OPENVAS_SCANNER } from './openvas';
import { readOpenvasCsv, recogniseOpenvasCsv } from './openvas-csv';
import { readOpenvasXml, recogniseOpenvasXml } from './openvas-xml';
import { QUALYS_SCANNER } from './qualys';
import { readQualysCsv, recogniseQualysCsv } from './qualys-csv';
import { QUALYS_XML_DTD_ROOTS, readQualysXml, recogniseQualysXml } from './qualys-xml';
import { readTenableVmCsv, recogniseTenableVmCsv } from './tenable-vm-csv';
import { isTrivy, parseTrivy } from './trivy';
import { xmlRootOf } from './xml-stream';

export interface ScanFormatReader {
  name: ScanFormat;
  /** The run's scanner for this format's exports (`--scanner` overrides); '' when the format names none. */
  scanner: string;
  /** Which family the format belongs to: an unrecognised file is told the formats of its family. */
  syntax: 'xml' | 'csv' | 'json';
  /** XML roots whose exports name an external DTD by URL (never read; xml-stream.ts); none for the others. */
  externalDtdRoots?: readonly string[];
  /** Whether the start of a file (its first IMPORT_SNIFF_CHARS, decoded) is this format's. */
  recognise(start: string): boolean;
  /** The records of the export; `input` yields the file's text, checked UTF-8 without a byte-order mark. */
  read(input: Readable, options: MappingOptions, stats: ParseStats): AsyncGenerator<ScanRecord>;
}

/** How much of a file recognition looks at. */
export const IMPORT_SNIFF_BYTES = 64 * 1024;

/** Key paths of a JSON start (memoised: every JSON format asks about the same start). */
let lastStart: string | undefined;
let lastPaths: Set<string> | undefined;
export function jsonPathsOf(start: string): Set<string> {
  if (start !== lastStart) {
    lastStart = start;
    lastPaths = jsonKeyPaths(start);
  }
  return lastPaths ?? new Set();
}

const nessus: ScanFormatReader = {
  name: 'nessus',
  scanner: 'nessus',
  syntax: 'xml',
  recognise: (start) => xmlRootOf(start) === NESSUS_ROOT,
  read: (input, options, stats) => parseNessus(input, options, stats),
};

const tenableCsv: ScanFormatReader = {
  name: 'csv',
  scanner: 'nessus',
  syntax: 'csv',
  recognise: isTenableCsv,
  read: (input, options, stats) => parseTenableCsv(input, options, stats),
};

/** Findings in our own shape: one finding, an array of them, or {"findings": [...]} of findings (not Inspector's). */
const ownJson: ScanFormatReader = {
  name: 'json',
  scanner: '',
  syntax: 'json',
  recognise: (start) => {
    const paths = jsonPathsOf(start);
    return (
      paths.has('VulnID') ||
      paths.has('*.VulnID') ||
      paths.has('findings.*.VulnID') ||
      // No finding at all is still our shape (a run that saw nothing on its scope).
      /^\uFEFF?\s*(\[\s*\]|\{\s*"findings"\s*:\s*\[\s*\]\s*\})\s*$/.test(start)
    );
  },
  read: (input, options, stats) => parseJsonFindings(input, options.org, stats),
};

/** Tenable VM runs Nessus plugins: its findings keep the ids the other Tenable exports give (tenable-vm-csv.ts). */
const tenableVmCsv: ScanFormatReader = {
  name: 'tenable-vm-csv',
  scanner: 'nessus',
  syntax: 'csv',
  recognise: recogniseTenableVmCsv,
  read: (input, options, stats) => readTenableVmCsv(input, options, stats),
};

const openvasXml: ScanFormatReader = {
  name: 'openvas-xml',
  scanner: OPENVAS_SCANNER,
  syntax: 'xml',
  recognise: recogniseOpenvasXml,
  read: (input, options, stats) => readOpenvasXml(input, options, stats),
};

const openvasCsv: ScanFormatReader = {
  name: 'openvas-csv',
  scanner: OPENVAS_SCANNER,
  syntax: 'csv',
  recognise: recogniseOpenvasCsv,
  read: (input, options, stats) => readOpenvasCsv(input, options, stats),
};

const qualysCsv: ScanFormatReader = {
  name: 'qualys-csv',
  scanner: QUALYS_SCANNER,
  syntax: 'csv',
  recognise: recogniseQualysCsv,
  read: (input, options, stats) => readQualysCsv(input, options, stats),
};

/** Qualys's XML scan report names its DTD by URL: let through, never read (xml-stream.ts). */
const qualysXml: ScanFormatReader = {
  name: 'qualys-xml',
  scanner: QUALYS_SCANNER,
  syntax: 'xml',
  externalDtdRoots: QUALYS_XML_DTD_ROOTS,
  recognise: recogniseQualysXml,
  read: (input, options, stats) => readQualysXml(input, options, stats),
};

const inspector2: ScanFormatReader = {
  name: 'inspector2',
  scanner: INSPECTOR_SCANNER,
  syntax: 'json',
  recognise: (start) => recogniseInspector2(jsonPathsOf(start)),
  read: (input, options, stats) => readInspector2(input, options, stats),
};

const asff: ScanFormatReader = {
  name: 'asff',
  scanner: SECURITY_HUB_SCANNER,
  syntax: 'json',
  recognise: (start) => recogniseAsff(jsonPathsOf(start)),
  read: (input, options, stats) => readAsff(input, options, stats),
};

const trivy: ScanFormatReader = {
  name: 'trivy',
  scanner: 'trivy',
  syntax: 'json',
  recognise: (start) => isTrivy(jsonPathsOf(start)),
  read: (input, options, stats) => parseTrivy(input, options, stats),
};

const grype: ScanFormatReader = {
  name: 'grype',
  scanner: 'grype',
  syntax: 'json',
  recognise: (start) => isGrype(jsonPathsOf(start)),
  read: (input, options, stats) => parseGrype(input, options, stats),
};

const osv: ScanFormatReader = {
  name: 'osv',
  scanner: 'osv-scanner',
  syntax: 'json',
  recognise: (start) => isOsv(jsonPathsOf(start)),
  read: (input, options, stats) => parseOsv(input, options, stats),
};

/** Every format, most specific first (our own JSON last: its keys are the least distinctive). */
export const SCAN_FORMAT_READERS: readonly ScanFormatReader[] = [
  nessus,
  openvasXml,
  qualysXml,
  tenableCsv,
  tenableVmCsv,
  openvasCsv,
  qualysCsv,
  trivy,
  grype,
  osv,
  inspector2,
  asff,
  ownJson,
];

export function formatNamed(name: string): ScanFormatReader | undefined {
  return SCAN_FORMAT_READERS.find((format) => format.name === name);
}

const syntaxOf = (start: string): ScanFormatReader['syntax'] => {
  const first = start.replace(/^\uFEFF/, '').trimStart()[0];
  return first === '<' ? 'xml' : first === '{' || first === '[' ? 'json' : 'csv';
};

/** The format of a file from its start; NotAScanExportError naming the formats it could be when none recognises it. */
export function recogniseFormat(start: string): ScanFormatReader {
  const found = SCAN_FORMAT_READERS.find((format) => format.recognise(start));
  if (found !== undefined) return found;
  const syntax = syntaxOf(start);
  const candidates = SCAN_FORMAT_READERS.filter((format) => format.syntax === syntax).map((format) => format.name);
  throw new NotAScanExportError(
    `its content matches no format push reads; as ${syntax.toUpperCase()} it could be one of ${candidates.join(', ')} (force one with --format NAME)`,
  );
}
