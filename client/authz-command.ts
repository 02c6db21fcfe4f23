/**
 * The `npm run authz -- <command>` tool (entry point cli/authz.ts): edits the authz table (grants per certificate OU,
 * the CAs it names, revoked certificates, SLA policies per org). Local tables by default (the DynamoDB of the stack `npm start` runs in this
 * checkout, found through .local/stack.json, else 127.0.0.1:${DYNAMODB_PORT:-8000}); a deployed stack's table with
 * `--table NAME` (region from `--region` or the SDK's default chain: AWS_REGION, the profile). Every edit says what it
 * replaced and when it takes effect; `list --json` writes nothing but the JSON to stdout.
 * CAs are always named by their certificate: the table keeps their key, never their name.
 */
import { discoverStack } from '../local/stack-state';
import { targetPorts } from '../local/ports';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { userAgent } from './user-agent';
import { grantSchema, METHODS, type Grant, type Method } from '../functions/shared/core/authz-policy';
import { orgSchema } from '../functions/shared/core/finding-schema';
import { readFileSync } from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import {
  distinguishedName,
  identityFromCertificate,
  issuerKeyOf,
  normalizeSerial,
  signedBy,
} from '../functions/shared/core/identity';
import { parsePemBundle } from '../functions/shared/core/pem-bundle';
import { localDynamoDbClient, localTableName } from '../local/dynamodb/server';
import {
  DEFAULT_SLA_POLICY,
  slaDaysSchema,
  slaPolicyFrom,
  slaPolicySchema,
  type SlaPolicy,
} from '../functions/shared/core/sla';
import { RANKED_SEVERITIES, type RankedSeverity } from '../functions/shared/core/severity';
import {
  deleteGrant,
  deleteSlaPolicy,
  getSlaPolicy,
  putSlaPolicy,
  getGrant,
  listAuthz,
  putGrant,
  revokeCertificate,
  revokeIssuer,
  unrevokeCertificate,
  unrevokeIssuer,
  type AuthzEntries,
} from '../functions/shared/adapters/authz-admin';

export const USAGE = `usage: npm run authz -- <command> [options] [--table NAME --region REGION]
  grant --ou OU --methods GET,POST,TRIAGE --orgs org1,org2|* [--issuer-cert CA.pem]
                                     set an OU's grant, replacing any it had (only for
                                     certificates that CA's key signed)
  grant --ou OU --add-orgs org3[,org4] [--methods GET] [--issuer-cert CA.pem]
                                     add orgs (and methods) to the OU's grant, keeping the rest
  revoke --ou OU                     remove an OU's grant
  list [--json]                      show grants, CAs and revoked certificates
                                     (npm run -s authz -- list --json | jq: -s keeps npm's own lines out)
  revoke-cert --cert FILE [--issuer-cert CA.pem] [--reason TEXT]
  revoke-cert --serial HEX --issuer-cert CA.pem [--reason TEXT]
                                     deny one client certificate (issuer key + serial); a CA
                                     certificate as --cert denies everything that CA signed
  unrevoke-cert (same options)       undo revoke-cert
  sla set --org ORG [--critical DAYS] [--high DAYS] [--medium DAYS] [--low DAYS] [--info DAYS]
                                     set an org's SLA: days to fix by severity, counted from
                                     FirstSeen (1 to 3650, or none); unnamed severities keep theirs
  sla show --org ORG [--json]        the org's SLA, each severity marked when it is the default
  sla reset --org ORG                back to the defaults (CRITICAL 15, HIGH 30, MEDIUM 90, LOW 180, INFO none)
Changes take effect once the functions' grant cache expires (template parameter GrantCacheSeconds, 30 s by default).
Without --table, the table of the stack \`npm start\` runs in this checkout is edited (else 127.0.0.1:\${DYNAMODB_PORT:-8000});
with --table, the region comes from --region or the SDK's default chain (AWS_REGION, the profile).`;

/**
 * When an edit reaches the functions: each reads grants through a cache of GrantCacheSeconds (template parameter,
 * GRANT_CACHE_SECONDS in the functions), which the local stack honours.
 */
function takesEffect(grantCacheSeconds: number | undefined): string {
  if (grantCacheSeconds === undefined)
    return "takes effect within the deployed stack's GrantCacheSeconds (30 s unless overridden), as each function's grant cache expires";
  if (grantCacheSeconds === 0) return 'takes effect at once (the local stack runs with GrantCacheSeconds=0)';
  return `takes effect within ${grantCacheSeconds} s (the local stack's GrantCacheSeconds), as each function's grant cache expires`;
}

/** Locally every table is named by its template logical id (local/dynamodb/server.ts). */
const LOCAL_AUTHZ_TABLE = localTableName('AuthzTable');

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

const consoleOutput: Output = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** A usage error: exit code 2 and the usage line, like other command-line tools. */
class UsageError extends Error {}

const OPTIONS = {
  ou: { type: 'string' },
  methods: { type: 'string' },
  orgs: { type: 'string' },
  'add-orgs': { type: 'string' },
  issuer: { type: 'string' },
  'issuer-cert': { type: 'string' },
  cert: { type: 'string' },
  serial: { type: 'string' },
  reason: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  json: { type: 'boolean' },
  org: { type: 'string' },
  critical: { type: 'string' },
  high: { type: 'string' },
  medium: { type: 'string' },
  low: { type: 'string' },
  info: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** Options each command accepts besides --table/--region/--endpoint. */
const COMMAND_OPTIONS: Record<string, string[]> = {
  grant: ['ou', 'methods', 'orgs', 'add-orgs', 'issuer', 'issuer-cert'],
  revoke: ['ou'],
  list: ['json'],
  'revoke-cert': ['cert', 'serial', 'issuer-cert', 'reason'],
  'unrevoke-cert': ['cert', 'serial', 'issuer-cert'],
  'sla set': ['org', 'critical', 'high', 'medium', 'low', 'info'],
  'sla show': ['org', 'json'],
  'sla reset': ['org'],
};

function required(values: Values, name: 'ou' | 'methods' | 'orgs' | 'add-orgs' | 'serial' | 'org'): string {
  const value = values[name]?.trim();
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

function parseOu(values: Values): string {
  const ou = required(values, 'ou');
  // An OU is matched exactly against the certificate subject; control characters could only be a mistake.
  const hasControlCharacter = [...ou].some((char) => (char.codePointAt(0) ?? 0) < 0x20 || char === '\u007f');
  if (ou.length > 64 || hasControlCharacter) throw new UsageError('--ou must be at most 64 printable characters');
  return ou;
}

function parseMethods(values: Values): Method[] {
  const methods = required(values, 'methods')
    .split(',')
    .map((method) => method.trim().toUpperCase())
    .filter(Boolean);
  const unknown = methods.filter((method) => !(METHODS as readonly string[]).includes(method));
  if (methods.length === 0 || unknown.length > 0)
    throw new UsageError(
      `--methods must be a comma-separated list of ${METHODS.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`,
    );
  return [...new Set(methods)] as Method[];
}

/** `org` when it is a valid org id, else a UsageError naming the option (and `hint`, what else it takes). */
function checkedOrg(option: string, org: string, hint = ''): string {
  const checked = orgSchema.safeParse(org);
  if (!checked.success)
    throw new UsageError(
      `--${option}: ${JSON.stringify(org)} ${checked.error.issues[0]?.message ?? 'is not a valid org'}${hint}`,
    );
  return org;
}

function parseOrgs(values: Values, name: 'orgs' | 'add-orgs' = 'orgs'): Grant['orgs'] {
  const raw = required(values, name);
  if (raw === '*') return '*';
  const orgs = raw.split(',').map((org) => checkedOrg(name, org.trim(), ' (or use * for every org)'));
  return [...new Set(orgs)];
}

function parseSerial(values: Values): string {
  try {
    return normalizeSerial(required(values, 'serial'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError('--serial must be the certificate serial number in hexadecimal (colons allowed)');
  }
}

interface Target {
  client: DynamoDBClient;
  table: string;
  where: string;
  /** The local stack's GrantCacheSeconds; undefined for a deployed table. */
  grantCacheSeconds: number | undefined;
}

async function target(values: Values): Promise<Target> {
  if (values.table) {
    // No region given: the SDK's default chain (AWS_REGION, AWS_DEFAULT_REGION via the profile, ~/.aws/config).
    const client = new DynamoDBClient({
      ...(values.region ? { region: values.region } : {}),
      ...(values.endpoint ? { endpoint: values.endpoint } : {}),
      customUserAgent: userAgent('authz'),
    });
    let region: string;
    try {
      region = await client.config.region();
    } catch {
      client.destroy();
      throw new UsageError('--table needs a region: pass --region, or set AWS_REGION or a region in your AWS profile');
    }
    return { client, table: values.table, where: `table ${values.table} (${region})`, grantCacheSeconds: undefined };
  }
  if (values.region) throw new UsageError('--region needs --table (the local stack has no region)');
  const running = discoverStack();
  const endpoint = values.endpoint ?? running?.dynamoDbEndpoint ?? `http://127.0.0.1:${targetPorts().dynamoDb}`;
  const grantCacheSeconds = running && !values.endpoint ? running.grantCacheSeconds : 30;
  return {
    client: localDynamoDbClient(endpoint),
    table: LOCAL_AUTHZ_TABLE,
    where: `local table ${LOCAL_AUTHZ_TABLE} at ${endpoint}`,
    grantCacheSeconds,
  };
}

/** Certificates of a PEM file, with a usage error that names the option. */
function certificatesOf(values: Values, name: 'cert' | 'issuer-cert'): X509Certificate[] {
  const path = values[name];
  if (!path) throw new UsageError(`--${name} is required`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`--${name}: cannot read ${path}`);
  }
  try {
    return parsePemBundle(text, path);
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`);
  }
}

function issuerCertificate(values: Values): X509Certificate | undefined {
  if (values['issuer-cert'] === undefined) return undefined;
  const [ca] = certificatesOf(values, 'issuer-cert');
  if (!ca || !identityFromCertificate(ca).isCa)
    throw new UsageError('--issuer-cert must be a CA certificate (basicConstraints CA:TRUE)');
  return ca;
}

const describeKey = (subject: string | undefined, key: string) => `"${subject ?? '?'}" key sha256:${key}`;

function describeGrant(grant: unknown): string {
  const { methods, orgs, issuer, issuerDN } = (grant ?? {}) as Partial<Grant>;
  const pin = issuer
    ? ` issuer=${describeKey(issuer.subject, issuer.spkiSha256)}`
    : issuerDN
      ? ` issuer DN "${issuerDN}" (denies: re-pin with --issuer-cert)`
      : '';
  return `methods=${(methods ?? []).join(',')} orgs=${Array.isArray(orgs) ? orgs.join(',') : String(orgs)}${pin}`;
}

/** The certificate to (un)revoke: a CA (everything it signed) or one client certificate of an issuer. */
type RevocationTarget =
  | { kind: 'ca'; ca: X509Certificate }
  | { kind: 'certificate'; issuer: X509Certificate; serial: string; subject?: string };

async function revocationTarget(values: Values, entries: () => Promise<AuthzEntries>): Promise<RevocationTarget> {
  if (values.serial !== undefined) {
    const serial = parseSerial(values);
    if (values.cert !== undefined) throw new UsageError('give --cert or --serial, not both');
    const issuer = issuerCertificate(values);
    if (!issuer) throw new UsageError('--serial needs --issuer-cert: a serial is unique only within its CA');
    return { kind: 'certificate', issuer, serial };
  }
  const givenIssuer = issuerCertificate(values);
  const [certificate, ...chain] = certificatesOf(values, 'cert');
  if (!certificate) throw new UsageError('--cert holds no certificate');
  if (identityFromCertificate(certificate).isCa && chain.length === 0 && !givenIssuer)
    return { kind: 'ca', ca: certificate };
  // The issuer: --issuer-cert, else the next certificate of the file, else a CA the table already names.
  const candidates = givenIssuer ? [givenIssuer] : chain.length > 0 ? chain.slice(0, 1) : [];
  for (const candidate of candidates) {
    if (await signedBy(certificate, issuerKeyOf(candidate).publicKey))
      return {
        kind: 'certificate',
        issuer: candidate,
        serial: certificate.serialNumber,
        subject: distinguishedName(certificate.subject),
      };
  }
  if (candidates.length > 0) throw new UsageError('the issuer certificate did not sign --cert');
  for (const [key, known] of Object.entries((await entries()).issuers)) {
    if (await signedBy(certificate, known.publicKey)) {
      throw new UsageError(
        `--cert was signed by the registered CA ${describeKey(known.subject, key)}: pass that CA with --issuer-cert`,
      );
    }
  }
  throw new UsageError(
    'name the CA that signed --cert with --issuer-cert CA.pem (or put it after the certificate in the file)',
  );
}

/** The grant `grant --add-orgs` writes: the stored one with the orgs (and methods, pin) added. */
function widenedGrant(stored: unknown, values: Values): Grant {
  const addOrgs = parseOrgs(values, 'add-orgs');
  const current = stored === undefined ? undefined : grantSchema.safeParse(stored);
  if (current && !current.success)
    throw new UsageError('the stored grant is not valid; replace it with --methods and --orgs');
  const existing = current?.data;
  if (!existing && values.methods === undefined)
    throw new UsageError('the OU has no grant yet: give --methods with --add-orgs (or use --orgs)');
  const methods = [
    ...new Set([...(existing?.methods ?? []), ...(values.methods === undefined ? [] : parseMethods(values))]),
  ];
  const orgs = existing?.orgs === '*' || addOrgs === '*' ? '*' : [...new Set([...(existing?.orgs ?? []), ...addOrgs])];
  return { methods, orgs, ...(existing?.issuer ? { issuer: existing.issuer } : {}) };
}

async function grant(values: Values, { client, table, where, grantCacheSeconds }: Target, io: Output): Promise<void> {
  if (values.issuer !== undefined)
    throw new UsageError(
      '--issuer (a DN) is refused: a name proves nothing; pin the CA by its certificate with --issuer-cert CA.pem',
    );
  if (values.orgs !== undefined && values['add-orgs'] !== undefined)
    throw new UsageError('give --orgs (replace the grant) or --add-orgs (add to it), not both');
  const ou = parseOu(values);
  const issuer = issuerCertificate(values);
  const adding = values['add-orgs'] !== undefined;
  const stored = adding ? await getGrant(client, table, ou) : undefined;
  const next: Grant = adding
    ? widenedGrant(stored, values)
    : { methods: parseMethods(values), orgs: parseOrgs(values) };
  const previous = await putGrant(client, table, ou, next, issuer);
  const pin = issuer ? { issuer: { ...issuerKeyOf(issuer), subject: distinguishedName(issuer.subject) } } : {};
  const now = describeGrant({ ...next, ...pin });
  const what =
    previous === undefined
      ? `added a grant for OU ${ou}: ${now}`
      : adding
        ? `added to the grant of OU ${ou}: now ${now} (was ${describeGrant(previous)})`
        : `replaced the grant of OU ${ou}: now ${now} (was ${describeGrant(previous)}; --add-orgs adds instead)`;
  io.out(`${what} (${where}); ${takesEffect(grantCacheSeconds)}`);
}

const parseOrg = (values: Values): string => checkedOrg('org', required(values, 'org'));

/** `--critical 7`, `--info none`: whole days from 1 to 3650, or none (no SLA for that severity). */
function parseSlaDays(values: Values, severity: RankedSeverity): number | null | undefined {
  const option = severity.toLowerCase() as Lowercase<RankedSeverity>;
  const raw = values[option]?.trim();
  if (raw === undefined) return undefined;
  if (raw.toLowerCase() === 'none') return null;
  const days = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  const checked = slaDaysSchema.safeParse(days);
  if (!checked.success) throw new UsageError(`--${option} ${checked.error.issues[0]?.message ?? 'is not valid'}`);
  return checked.data;
}

/** The stored policy, or the defaults; a stored one that breaks the schema is reported, never silently replaced. */
function currentPolicy(stored: unknown, org: string): SlaPolicy {
  try {
    return slaPolicyFrom(stored, org);
  } catch {
    throw new UsageError(`the stored SLA policy of org ${org} is not valid; \`sla reset --org ${org}\` replaces it`);
  }
}

const describeDays = (days: number | null) => (days === null ? 'none' : `${days} days`);

/** One line per severity: its days, marked `(default)` when they are the default's. */
function describePolicy(policy: SlaPolicy): string[] {
  return RANKED_SEVERITIES.map(
    (severity) =>
      `  ${severity.padEnd(8)} ${describeDays(policy[severity])}${policy[severity] === DEFAULT_SLA_POLICY[severity] ? ' (default)' : ''}`,
  );
}

async function sla(command: string, values: Values, target: Target, io: Output): Promise<void> {
  const { client, table, where, grantCacheSeconds } = target;
  const org = parseOrg(values);
  if (command === 'sla show') {
    const stored = await getSlaPolicy(client, table, org);
    const policy = currentPolicy(stored, org);
    if (values.json) {
      io.out(JSON.stringify({ org, stored: stored !== undefined, policy }, null, 2));
      return;
    }
    io.out(
      `SLA of org ${org} (${where}): ${stored === undefined ? 'no policy stored, the defaults' : 'stored'}; days to fix, from FirstSeen:`,
    );
    for (const line of describePolicy(policy)) io.out(line);
    return;
  }
  if (command === 'sla reset') {
    const existed = await deleteSlaPolicy(client, table, org);
    io.out(
      existed
        ? `removed the SLA policy of org ${org}: back to the defaults (${where}); ${takesEffect(grantCacheSeconds)}`
        : `org ${org} had no SLA policy: it has the defaults (${where})`,
    );
    return;
  }
  const changes = RANKED_SEVERITIES.flatMap((severity) => {
    const days = parseSlaDays(values, severity);
    return days === undefined ? [] : [[severity, days] as const];
  });
  if (changes.length === 0)
    throw new UsageError('sla set needs at least one of --critical, --high, --medium, --low, --info');
  const before = currentPolicy(await getSlaPolicy(client, table, org), org);
  const next: SlaPolicy = { ...before, ...Object.fromEntries(changes) };
  await putSlaPolicy(client, table, org, next);
  const changed = changes.map(
    ([severity, days]) => `${severity} ${describeDays(days)} (was ${describeDays(before[severity])})`,
  );
  io.out(`set the SLA of org ${org}: ${changed.join(', ')} (${where}); ${takesEffect(grantCacheSeconds)}`);
  for (const line of describePolicy(next)) io.out(line);
}

async function execute(command: string, values: Values, io: Output): Promise<void> {
  const destination = await target(values);
  const { client, table, where, grantCacheSeconds } = destination;
  const TAKES_EFFECT = takesEffect(grantCacheSeconds);
  const entries = () => listAuthz(client, table);
  try {
    switch (command) {
      case 'grant':
        await grant(values, destination, io);
        return;
      case 'sla set':
      case 'sla show':
      case 'sla reset':
        await sla(command, values, destination, io);
        return;
      case 'revoke': {
        const ou = parseOu(values);
        const existed = await deleteGrant(client, table, ou);
        io.out(
          existed ? `revoked the grant of OU ${ou} (${where}); ${TAKES_EFFECT}` : `OU ${ou} had no grant (${where})`,
        );
        return;
      }
      case 'list': {
        const listed = await entries();
        if (values.json) {
          io.out(JSON.stringify(listed, null, 2));
          return;
        }
        io.out(`grants (${where}):`);
        if (listed.grants.length === 0) io.out('  (none)');
        for (const { ou, grant } of listed.grants) io.out(`  ${ou}: ${describeGrant(grant)}`);
        io.out('CAs named by pins and revocations:');
        const issuers = Object.entries(listed.issuers);
        if (issuers.length === 0) io.out('  (none)');
        for (const [key, issuer] of issuers)
          io.out(
            `  ${describeKey(issuer.subject, key)}${issuer.revokedAt ? ` REVOKED ${issuer.revokedAt}${issuer.reason ? ` (${issuer.reason})` : ''}` : ''}`,
          );
        io.out('revoked certificates (issuer key + serial):');
        if (listed.revokedCertificates.length === 0) io.out('  (none)');
        for (const { issuerKey, serialNumber, revokedAt, reason } of listed.revokedCertificates) {
          io.out(
            `  ${issuerKey ? `sha256:${issuerKey}` : 'any issuer (serial-only entry of an earlier version)'} serial ${serialNumber} revoked ${String(revokedAt)}${reason ? ` (${String(reason)})` : ''}`,
          );
        }
        io.out('SLA policies (days by severity; an org not listed has the defaults):');
        if (listed.slaPolicies.length === 0) io.out('  (none)');
        for (const { org, policy } of listed.slaPolicies) {
          const parsed = slaPolicySchema.safeParse(policy);
          io.out(
            `  ${org}: ${parsed.success ? RANKED_SEVERITIES.map((severity) => `${severity}=${parsed.data[severity] ?? 'none'}`).join(' ') : 'not valid (sla reset replaces it)'}`,
          );
        }
        io.out(`Every change ${TAKES_EFFECT}.`);
        return;
      }
      case 'revoke-cert': {
        const revocation = await revocationTarget(values, entries);
        if (revocation.kind === 'ca') {
          const key = await revokeIssuer(client, table, revocation.ca, values.reason);
          io.out(
            `revoked CA ${describeKey(distinguishedName(revocation.ca.subject), key)}: every certificate it signed is denied (${where}); ${TAKES_EFFECT}`,
          );
        } else {
          const done = await revokeCertificate(client, table, revocation.issuer, revocation.serial, {
            ...(values.reason ? { reason: values.reason } : {}),
            ...(revocation.subject ? { subject: revocation.subject } : {}),
          });
          io.out(
            `revoked certificate serial ${done.serialNumber} of CA ${describeKey(distinguishedName(revocation.issuer.subject), done.issuerKey)} (${where}); ${TAKES_EFFECT}`,
          );
        }
        return;
      }
      case 'unrevoke-cert': {
        const revocation = await revocationTarget(values, entries);
        const undone =
          revocation.kind === 'ca'
            ? await unrevokeIssuer(client, table, revocation.ca)
            : await unrevokeCertificate(client, table, revocation.issuer, revocation.serial);
        const what =
          revocation.kind === 'ca'
            ? `CA "${distinguishedName(revocation.ca.subject)}"`
            : `certificate serial ${normalizeSerial(revocation.serial)} of CA "${distinguishedName(revocation.issuer.subject)}"`;
        io.out(undone ? `restored ${what} (${where}); ${TAKES_EFFECT}` : `${what} was not revoked (${where})`);
        return;
      }
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } finally {
    client.destroy();
  }
}

const isConnectionRefused = (error: unknown) =>
  (error as { code?: string }).code === 'ECONNREFUSED' ||
  (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED' ||
  /ECONNREFUSED/.test(String(error));

/** Runs one command; resolves with the process exit code (0 ok, 1 failure, 2 bad arguments). */
export async function runAuthz(argv: string[], io: Output = consoleOutput): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    const [first, ...rest] = positionals;
    if (!first) throw new UsageError('a command is required');
    // `sla` takes its action as a second word: `sla set|show|reset`.
    const subcommand = first === 'sla' ? rest.shift() : undefined;
    if (first === 'sla' && subcommand === undefined) throw new UsageError('sla needs set, show or reset');
    const command = subcommand === undefined ? first : `${first} ${subcommand}`;
    const extra = rest;
    const accepted = COMMAND_OPTIONS[command];
    if (!accepted) throw new UsageError(`unknown command ${command}`);
    if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
    const stray = Object.keys(values).filter((name) => !['table', 'region', 'endpoint', ...accepted].includes(name));
    if (stray.length > 0) throw new UsageError(`${command} does not take --${stray[0]}`);
    await execute(command, values, io);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`authz: ${error.message}`);
      io.err(USAGE);
      return 2;
    }
    if (isConnectionRefused(error)) {
      io.err(
        'authz: cannot reach the local DynamoDB server: is `npm start` running? (or pass --table/--region for AWS)',
      );
      return 1;
    }
    io.err(`authz: ${(error as Error).name}: ${(error as Error).message}`);
    return 1;
  }
}
