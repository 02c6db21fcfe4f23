/**
 * Demo data for a fresh local stack: grants for the dev PKI's scanner and dashboard OUs, and a few
 * findings posted through the gateway itself (mTLS, mapping template, state machine, functions), so
 * what is seeded is exactly what a scanner would have stored.
 */
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Grant } from '../functions/shared/core/authz-policy';
import type { Finding } from '../functions/shared/core/finding-schema';
import { putGrant } from '../functions/shared/adapters/authz-admin';
import { call, type ClientIdentity } from '../client/mtls';
import { userAgent } from '../client/user-agent';

/** The reference request: the one finding the README tour, events/ and the demo post. */
export const REFERENCE_FINDING: Finding = {
  VulnID: 'testID3',
  Org: 'org1',
  AssetName: 'lax-psg-g.internal.org.com',
  DueDate: '09-09-2022',
  PluginId: 23234,
  PluginName: 'Palo Alto confusion ADE-OS Local File Inclusion',
  Priority: '234234234',
};

export const DEMO_GRANTS: { ou: string; grant: Grant }[] = [
  { ou: 'scanner', grant: { methods: ['POST'], orgs: '*' } },
  { ou: 'dashboard', grant: { methods: ['GET'], orgs: ['org1', 'org2', 'org3'] } },
];

export const DEMO_FINDINGS: Finding[] = [
  REFERENCE_FINDING,
  {
    ...REFERENCE_FINDING,
    VulnID: 'demo-0002',
    Org: 'org2',
    AssetName: 'db-01.internal.org.com',
    DueDate: '2025-01-31',
    PluginId: 10001,
    PluginName: 'OpenSSH regreSSHion race condition',
    Priority: 'High',
  },
  {
    ...REFERENCE_FINDING,
    VulnID: 'demo-0003',
    Org: 'org3',
    AssetName: 'web-07.internal.org.com',
    DueDate: '2025-03-15',
    PluginId: 10002,
    PluginName: 'TLS 1.0 enabled',
    Priority: 'Low',
  },
];

async function isEmpty(client: DynamoDBClient, table: string): Promise<boolean> {
  const page = await client.send(new ScanCommand({ TableName: table, Limit: 1 }));
  return (page.Items?.length ?? 0) === 0;
}

export interface SeedTarget {
  client: DynamoDBClient;
  tables: { FindingsTable: string; AuthzTable: string };
  gatewayUrl: string;
  caPem: string;
  scanner: ClientIdentity;
}

export interface SeedResult {
  grants: boolean;
  findings: number;
}

/** Seeds grants when the authz table is empty and findings when the findings table is empty. */
export async function seedDemoData(target: SeedTarget): Promise<SeedResult> {
  const result: SeedResult = { grants: false, findings: 0 };
  // An operator's revocations and edits survive restarts: only a never-used table is seeded.
  if (await isEmpty(target.client, target.tables.AuthzTable)) {
    for (const { ou, grant } of DEMO_GRANTS) await putGrant(target.client, target.tables.AuthzTable, ou, grant);
    result.grants = true;
  }
  if (await isEmpty(target.client, target.tables.FindingsTable)) {
    const answer = await call(target.gatewayUrl, {
      path: '/vuln',
      body: { findings: DEMO_FINDINGS },
      identity: target.scanner,
      caPem: target.caPem,
      userAgent: userAgent('seed'),
    });
    if (answer.status !== 200)
      throw new Error(`Seeding demo findings failed with HTTP ${answer.status}: ${answer.body}`);
    result.findings = DEMO_FINDINGS.length;
  }
  return result;
}
