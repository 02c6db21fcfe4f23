/**
 * The `npm run authz -- <command>` tool (entry point cli/authz.ts): edits the authz table (grants per certificate OU, revoked
 * certificate serials). Local tables by default (the `npm start` DynamoDB on
 * 127.0.0.1:${DYNAMODB_PORT:-8000}); a deployed stack's table with `--table NAME --region R`.
 *
 *   grant --ou OU --methods GET,POST --orgs org1,org2|* [--issuer DN]
 *   revoke --ou OU
 *   list [--json]
 *   revoke-cert --serial HEX [--reason TEXT]
 */
import { localPorts } from '../local/ports';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { METHODS, type Grant, type Method } from '../functions/shared/core/authz-policy';
import { orgSchema } from '../functions/shared/core/finding-schema';
import { normalizeSerial } from '../functions/shared/core/identity';
import { localDynamoDbClient, localTableName } from '../local/dynamodb/server';
import { deleteGrant, listAuthz, putGrant, revokeSerial } from '../functions/shared/adapters/authz-admin';

export const USAGE = `usage: npm run authz -- <command> [options] [--table NAME --region REGION]
  grant --ou OU --methods GET,POST --orgs org1,org2|* [--issuer DN]   allow an OU
  revoke --ou OU                                                      remove an OU's grant
  list [--json]                                                       show grants and revoked serials
  revoke-cert --serial HEX [--reason TEXT]                            deny one certificate
Without --table, the local stack's table on 127.0.0.1:\${DYNAMODB_PORT:-8000} is edited.`;

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
  issuer: { type: 'string' },
  serial: { type: 'string' },
  reason: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** Options each command accepts besides --table/--region/--endpoint. */
const COMMAND_OPTIONS: Record<string, string[]> = {
  grant: ['ou', 'methods', 'orgs', 'issuer'],
  revoke: ['ou'],
  list: ['json'],
  'revoke-cert': ['serial', 'reason'],
};

function required(values: Values, name: 'ou' | 'methods' | 'orgs' | 'serial'): string {
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
  if (methods.length === 0 || unknown.length > 0) throw new UsageError(`--methods must be a comma-separated list of ${METHODS.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`);
  return [...new Set(methods)] as Method[];
}

function parseOrgs(values: Values): Grant['orgs'] {
  const raw = required(values, 'orgs');
  if (raw === '*') return '*';
  const orgs = raw.split(',').map((org) => org.trim());
  for (const org of orgs) {
    const checked = orgSchema.safeParse(org);
    if (!checked.success) throw new UsageError(`--orgs: ${JSON.stringify(org)} ${checked.error.issues[0]?.message ?? 'is not a valid org'} (or use * for every org)`);
  }
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

function target(values: Values): { client: DynamoDBClient; table: string; where: string } {
  if (values.table) {
    const client = new DynamoDBClient({ ...(values.region ? { region: values.region } : {}), ...(values.endpoint ? { endpoint: values.endpoint } : {}) });
    return { client, table: values.table, where: `table ${values.table}${values.region ? ` (${values.region})` : ''}` };
  }
  if (values.region) throw new UsageError('--region needs --table (the local stack has no region)');
  const endpoint = values.endpoint ?? `http://127.0.0.1:${localPorts().dynamoDb}`;
  return { client: localDynamoDbClient(endpoint), table: LOCAL_AUTHZ_TABLE, where: `local table ${LOCAL_AUTHZ_TABLE} at ${endpoint}` };
}

function describeGrant(grant: unknown): string {
  const { methods, orgs, issuerDN } = (grant ?? {}) as Partial<Grant>;
  return `methods=${(methods ?? []).join(',')} orgs=${Array.isArray(orgs) ? orgs.join(',') : String(orgs)}${issuerDN ? ` issuer="${issuerDN}"` : ''}`;
}

async function execute(command: string, values: Values, io: Output): Promise<void> {
  const { client, table, where } = target(values);
  try {
    switch (command) {
      case 'grant': {
        const ou = parseOu(values);
        const grant: Grant = { methods: parseMethods(values), orgs: parseOrgs(values), ...(values.issuer ? { issuerDN: values.issuer } : {}) };
        await putGrant(client, table, ou, grant);
        io.out(`granted OU ${ou}: ${describeGrant(grant)} (${where})`);
        return;
      }
      case 'revoke': {
        const ou = parseOu(values);
        const existed = await deleteGrant(client, table, ou);
        io.out(existed ? `revoked the grant of OU ${ou} (${where})` : `OU ${ou} had no grant (${where})`);
        return;
      }
      case 'list': {
        const entries = await listAuthz(client, table);
        if (values.json) {
          io.out(JSON.stringify(entries, null, 2));
          return;
        }
        io.out(`grants (${where}):`);
        if (entries.grants.length === 0) io.out('  (none)');
        for (const { ou, grant } of entries.grants) io.out(`  ${ou}: ${describeGrant(grant)}`);
        io.out('revoked certificate serials:');
        if (entries.revokedSerials.length === 0) io.out('  (none)');
        for (const { serialNumber, revokedAt } of entries.revokedSerials) io.out(`  ${serialNumber} (revoked ${String(revokedAt)})`);
        return;
      }
      case 'revoke-cert': {
        const serial = await revokeSerial(client, table, parseSerial(values), values.reason);
        io.out(`revoked certificate serial ${serial} (${where})`);
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
  (error as { code?: string }).code === 'ECONNREFUSED' || (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(String(error));

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
    const [command, ...extra] = positionals;
    if (!command) throw new UsageError('a command is required');
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
      io.err('authz: cannot reach the local DynamoDB server: is `npm start` running? (or pass --table/--region for AWS)');
      return 1;
    }
    io.err(`authz: ${(error as Error).name}: ${(error as Error).message}`);
    return 1;
  }
}
