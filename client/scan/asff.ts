/**
 * AWS Security Hub findings in the AWS Security Finding Format, as `aws securityhub get-findings`
 * writes them: `{"Findings": [...]}` (https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-syntax.html).
 * The asset is the finding's first resource (`Resources[0].Id`). A finding with `Vulnerabilities`
 * (Inspector, and partners' CVE findings) becomes one finding per vulnerability and vulnerable package
 * (rule: the vulnerability id; location: package, installed version, file path). Any other finding
 * (a security control, GuardDuty…) is one finding: rule the control id (`Compliance.SecurityControlId`)
 * or else the `GeneratorId`, location its first finding type.
 * Skipped and counted: archived records, workflow RESOLVED or SUPPRESSED, controls that PASSED or
 * could not be evaluated (NOT_AVAILABLE).
 */
import {
  arrayAt,
  itemsAt,
  cvssPairsOf,
  dateAt,
  installedVersionOf,
  isObject,
  meaningful,
  numberAt,
  objectAt,
  stringAt,
  stringsAt,
  yesNoAt,
} from './aws-json';
import { itemFindings, LeftOut, type FindingDraft, type Outcome } from './draft';
import type { MappingOptions } from './mapping';
import type { ParseStats, ScanRecord } from './records';

export const SECURITY_HUB_SCANNER = 'securityhub';

/**
 * `Severity.Normalized` (0–100) to a label when a finding has no label, by the bands the ASFF
 * documentation gives for `Severity.Label`: 0 INFORMATIONAL, 1–39 LOW, 40–69 MEDIUM, 70–89 HIGH,
 * 90–100 CRITICAL (https://docs.aws.amazon.com/securityhub/latest/userguide/asff-top-level-attributes.html#asff-severity).
 */
export function labelOfNormalized(normalized: number | undefined): string | undefined {
  if (normalized === undefined || normalized < 0 || normalized > 100) return undefined;
  if (normalized >= 90) return 'CRITICAL';
  if (normalized >= 70) return 'HIGH';
  if (normalized >= 40) return 'MEDIUM';
  if (normalized >= 1) return 'LOW';
  return 'INFORMATIONAL';
}

/** Findings that are no open vulnerability, left out by design: archived, resolved, suppressed, checks passed or not evaluated. */
function leftOutOf(finding: Record<string, unknown>): LeftOut | undefined {
  if (stringAt(finding, 'RecordState')?.toUpperCase() === 'ARCHIVED') return new LeftOut('archived');
  const workflow = (
    stringAt(objectAt(finding, 'Workflow'), 'Status') ?? stringAt(finding, 'WorkflowState')
  )?.toUpperCase();
  if (workflow === 'RESOLVED') return new LeftOut('resolved');
  if (workflow === 'SUPPRESSED') return new LeftOut('suppressed');
  const compliance = stringAt(objectAt(finding, 'Compliance'), 'Status')?.toUpperCase();
  if (compliance === 'PASSED') return new LeftOut('passed checks');
  if (compliance === 'NOT_AVAILABLE') return new LeftOut('checks not evaluated');
  return undefined;
}

/** The drafts of one ASFF finding, a finding left out, or why it cannot be mapped. */
export function asffDraftsOf(finding: unknown): Outcome {
  if (!isObject(finding)) return 'not a JSON object';
  const leftOut = leftOutOf(finding);
  if (leftOut !== undefined) return leftOut;
  const resource = arrayAt(finding, 'Resources')[0];
  const asset = stringAt(resource, 'Id');
  if (asset === undefined) return 'it names no resource (Resources[0].Id)';
  const severity = objectAt(finding, 'Severity');
  const recommendation = objectAt(objectAt(finding, 'Remediation'), 'Recommendation');
  const base: FindingDraft = {
    host: { ip: stringsAt(objectAt(objectAt(resource, 'Details'), 'AwsEc2Instance'), 'IpV4Addresses')[0] },
    asset,
    ruleId: stringAt(objectAt(finding, 'Compliance'), 'SecurityControlId') ?? stringAt(finding, 'GeneratorId'),
    title: stringAt(finding, 'Title') ?? stringAt(finding, 'GeneratorId') ?? 'Security Hub finding',
    family: stringAt(finding, 'ProductName'),
    priority:
      stringAt(severity, 'Label') ??
      stringAt(objectAt(objectAt(finding, 'FindingProviderFields'), 'Severity'), 'Label') ??
      labelOfNormalized(numberAt(severity, 'Normalized')) ??
      '',
    cves: [],
    description: stringAt(finding, 'Description'),
    solution: meaningful(stringAt(recommendation, 'Text')),
    references: [stringAt(recommendation, 'Url') ?? '', stringAt(finding, 'SourceUrl') ?? ''],
    location: [stringsAt(finding, 'Types')[0]],
    scannedAt: dateAt(finding, 'LastObservedAt') ?? dateAt(finding, 'UpdatedAt'),
  };
  const vulnerabilities = arrayAt(finding, 'Vulnerabilities').filter(isObject);
  if (vulnerabilities.length === 0) return [base];
  return vulnerabilities.flatMap((vulnerability) => {
    const id = stringAt(vulnerability, 'Id');
    const ofVulnerability: FindingDraft = {
      ...base,
      ruleId: id ?? base.ruleId,
      cves: [id ?? '', ...stringsAt(vulnerability, 'RelatedVulnerabilities')],
      ...cvssPairsOf(
        arrayAt(vulnerability, 'Cvss').map((entry) => ({
          score: numberAt(entry, 'BaseScore'),
          vector: stringAt(entry, 'BaseVector'),
          version: stringAt(entry, 'Version'),
        })),
      ),
      references: [
        ...stringsAt(vulnerability, 'ReferenceUrls'),
        stringAt(objectAt(vulnerability, 'Vendor'), 'Url') ?? '',
        ...(base.references ?? []),
      ],
      epssScore: numberAt(vulnerability, 'EpssScore'),
      knownExploit: yesNoAt(vulnerability, 'ExploitAvailable'),
      location: [],
    };
    const packages = arrayAt(vulnerability, 'VulnerablePackages').filter(isObject);
    if (packages.length === 0) return [ofVulnerability];
    return packages.map((item) => {
      const name = stringAt(item, 'Name');
      const version = installedVersionOf(stringAt(item, 'Version'), stringAt(item, 'Release'), item.Epoch);
      const path = stringAt(item, 'FilePath');
      return {
        ...ofVulnerability,
        packageName: name,
        packageVersion: version,
        fixedVersion: meaningful(stringAt(item, 'FixedInVersion')),
        packagePath: path,
        solution: meaningful(stringAt(item, 'Remediation')) ?? ofVulnerability.solution,
        location: [name, version, path],
      };
    });
  });
}

/** The findings of the ASFF findings given (the items of the export's `Findings` array), as they come. */
export async function* asffRecords(
  items: AsyncIterable<unknown>,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  yield* itemFindings(items, 'Findings', asffDraftsOf, options, stats);
}

/** `{"Findings": [...]}` as `aws securityhub get-findings` writes it: ASFF's `SchemaVersion` and `ProductArn` in a finding. */
export function recogniseAsff(keys: Set<string>): boolean {
  return (
    keys.has('Findings') && [...keys].some((key) => /^Findings\.\*\.(SchemaVersion|ProductArn|GeneratorId)$/.test(key))
  );
}

/** Streams the findings of a Security Hub export. */
export const readAsff = (input: AsyncIterable<string | Buffer>, options: MappingOptions, stats: ParseStats) =>
  asffRecords(itemsAt(input, 'Findings'), options, stats);
