/**
 * Amazon Inspector (v2) findings as `aws inspector2 list-findings` writes them: `{"findings": [...]}`,
 * each a `Finding` of the Inspector API (https://docs.aws.amazon.com/inspector/v2/APIReference/API_Finding.html).
 * The asset is the finding's first resource (`resources[0].id`: an EC2 instance id, an ECR image or a
 * Lambda function ARN). A PACKAGE_VULNERABILITY finding lists vulnerable packages: each becomes a
 * finding of its own (rule: the vulnerability id; location: package, installed version, file path),
 * as the package scanners (Trivy, Grype) report them. CODE_VULNERABILITY: rule the CodeGuru detector,
 * location the file and line. NETWORK_REACHABILITY: location the open port range and protocol.
 * Findings in status CLOSED (remediated) or SUPPRESSED are skipped and counted.
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

export const INSPECTOR_SCANNER = 'inspector';

/** Status CLOSED: Inspector saw it remediated; SUPPRESSED: a suppression rule hides it. Both left out. */
const LEFT_OUT_STATUSES: Record<string, string> = { CLOSED: 'closed', SUPPRESSED: 'suppressed' };

/** The first IPv4 address of an EC2 resource, for IpAddress. */
const ipOf = (resource: unknown) =>
  stringsAt(objectAt(objectAt(resource, 'details'), 'awsEc2Instance'), 'ipV4Addresses')[0];

/**
 * The drafts of one Inspector finding (one per vulnerable package for a package finding), or why it is
 * skipped. Severity: Inspector's INFORMATIONAL…CRITICAL; UNTRIAGED (the vendor gave none yet) falls
 * back to the CVSS score, as every unknown severity does.
 */
export function inspectorDraftsOf(finding: unknown): Outcome {
  if (!isObject(finding)) return 'not a JSON object';
  const status = stringAt(finding, 'status')?.toUpperCase() ?? '';
  if (Object.hasOwn(LEFT_OUT_STATUSES, status)) return new LeftOut(LEFT_OUT_STATUSES[status] as string);
  const resource = arrayAt(finding, 'resources')[0];
  const asset = stringAt(resource, 'id');
  if (asset === undefined) return 'it names no resource (resources[0].id)';
  const type = stringAt(finding, 'type') ?? 'FINDING';
  const packageDetails = objectAt(finding, 'packageVulnerabilityDetails');
  const codeDetails = objectAt(finding, 'codeVulnerabilityDetails');
  const network = objectAt(finding, 'networkReachabilityDetails');
  const adjusted = objectAt(objectAt(finding, 'inspectorScoreDetails'), 'adjustedCvss');
  const cvss = cvssPairsOf([
    ...(adjusted === undefined
      ? []
      : [
          {
            score: numberAt(adjusted, 'score'),
            vector: stringAt(adjusted, 'scoringVector'),
            version: stringAt(adjusted, 'version'),
          },
        ]),
    ...arrayAt(packageDetails, 'cvss').map((entry) => ({
      score: numberAt(entry, 'baseScore'),
      vector: stringAt(entry, 'scoringVector'),
      version: stringAt(entry, 'version'),
    })),
  ]);
  const vulnerabilityId = stringAt(packageDetails, 'vulnerabilityId');
  const recommendation = meaningful(stringAt(objectAt(finding, 'remediation')?.recommendation, 'text'));
  const base: FindingDraft = {
    host: { ip: ipOf(resource) },
    asset,
    ruleId: vulnerabilityId ?? stringAt(codeDetails, 'detectorId') ?? type,
    title: stringAt(finding, 'title') ?? vulnerabilityId ?? type,
    family: type,
    priority: stringAt(finding, 'severity') ?? '',
    cves: [vulnerabilityId ?? '', ...stringsAt(packageDetails, 'relatedVulnerabilities')],
    ...cvss,
    description: stringAt(finding, 'description'),
    solution: recommendation,
    cwes: stringsAt(codeDetails, 'cwes'),
    references: [
      ...stringsAt(packageDetails, 'referenceUrls'),
      stringAt(packageDetails, 'sourceUrl') ?? '',
      ...stringsAt(codeDetails, 'referenceUrls'),
      stringAt(objectAt(finding, 'remediation')?.recommendation, 'Url') ?? '',
    ],
    epssScore: numberAt(objectAt(finding, 'epss'), 'score'),
    knownExploit: yesNoAt(finding, 'exploitAvailable'),
    location: [],
    scannedAt: dateAt(finding, 'lastObservedAt') ?? dateAt(finding, 'updatedAt'),
  };
  if (codeDetails !== undefined) {
    const file = objectAt(codeDetails, 'filePath');
    const path = stringAt(file, 'filePath') ?? stringAt(file, 'fileName');
    const line = numberAt(file, 'startLine');
    return [{ ...base, packagePath: path, location: [path, line] }];
  }
  if (network !== undefined) {
    const range = objectAt(network, 'openPortRange');
    const begin = numberAt(range, 'begin');
    const end = numberAt(range, 'end');
    const protocol = stringAt(network, 'protocol');
    return [
      {
        ...base,
        port: begin !== undefined && begin === end ? begin : undefined,
        protocol,
        location: [`${begin ?? ''}-${end ?? ''}`, protocol?.toLowerCase()],
      },
    ];
  }
  const packages = arrayAt(packageDetails, 'vulnerablePackages').filter(isObject);
  if (packages.length === 0) return [base];
  return packages.map((item) => {
    const name = stringAt(item, 'name');
    const version = installedVersionOf(stringAt(item, 'version'), stringAt(item, 'release'), item.epoch);
    const path = stringAt(item, 'filePath');
    return {
      ...base,
      packageName: name,
      packageVersion: version,
      fixedVersion: meaningful(stringAt(item, 'fixedInVersion')),
      packagePath: path,
      solution: meaningful(stringAt(item, 'remediation')) ?? recommendation,
      location: [name, version, path],
    };
  });
}

/** The findings of the Inspector findings given (the items of the export's `findings` array), as they come. */
export async function* inspectorRecords(
  items: AsyncIterable<unknown>,
  options: MappingOptions,
  stats: ParseStats,
): AsyncGenerator<ScanRecord> {
  yield* itemFindings(items, 'findings', inspectorDraftsOf, options, stats);
}

/** `{"findings": [...]}` as `aws inspector2 list-findings` writes it, from the key paths of the start of a file. */
export function recogniseInspector2(keys: Set<string>): boolean {
  return (
    keys.has('findings') &&
    [...keys].some((key) =>
      /^findings\.\*\.(awsAccountId|findingArn|firstObservedAt|packageVulnerabilityDetails|inspectorScore)$/.test(key),
    )
  );
}

/** Streams the findings of an Inspector v2 export. */
export const readInspector2 = (input: AsyncIterable<string | Buffer>, options: MappingOptions, stats: ParseStats) =>
  inspectorRecords(itemsAt(input, 'findings'), options, stats);
