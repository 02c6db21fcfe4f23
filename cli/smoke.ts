/**
 * `npm run smoke`: runs the ingestion state machine through the Step Functions API with
 * @aws-sdk/client-sfn, using events/ingest-execution.json (the input the POST /vuln mapping template
 * builds), and checks the answers: the event's findings are stored (200), an invalid body is a 400,
 * a request without a certificate is a 403.
 *
 *   default               the Step Functions API of the stack `npm start` runs in this checkout
 *                         (.local/stack.json), else 127.0.0.1:${SFN_PORT:-8083}; if nothing
 *                         answers there, a backend started in this process (in memory), and it says so
 *   --stack NAME --region R   a deployed stack (state machine from its IngestStateMachineArn output)
 */
import { targetPorts } from '../local/ports';
import { discoverStack } from '../local/stack-state';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SFNClient, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localStateMachineArn } from '../local/aws-local';
import { INGEST_STATE_MACHINE, startBackend, type LocalBackend } from '../local/backend';
import { localDynamoDbClient } from '../local/dynamodb/server';
import { isListening } from '../client/mtls';
import { userAgent } from '../client/user-agent';
import { DEMO_GRANTS } from '../local/seed';
import { putGrant } from '../functions/shared/adapters/authz-admin';
import { PROJECT_ROOT } from '../local/cloudformation/template';
import { printCheck, runMain, summarize, type CheckResult } from './checks';

export const INGEST_EVENT_PATH = join(PROJECT_ROOT, 'events/ingest-execution.json');

interface IngestInput {
  body: unknown;
  requestId: string;
  sourceIp: string;
  principal: Record<string, unknown>;
}

export interface SmokeCase {
  name: string;
  input: IngestInput;
  expect: (answer: { statusCode?: number; body: Record<string, unknown> }) => boolean;
}

export type SmokeResult = CheckResult;

/** Findings in a POST body: one finding, or `{ findings: [...] }`. */
const findingCount = (body: unknown) => {
  const findings = (body as { findings?: unknown } | null)?.findings;
  return Array.isArray(findings) ? findings.length : 1;
};

/** The cases, each from the event file with one change; request ids are fresh so runs never collide. */
export function smokeCases(
  event: IngestInput = JSON.parse(readFileSync(INGEST_EVENT_PATH, 'utf8')) as IngestInput,
): SmokeCase[] {
  const fresh = () => `smoke-${randomUUID()}`;
  const principalWithoutCertificate = { ...event.principal };
  delete principalWithoutCertificate.certPem;
  return [
    {
      name: "the event's findings are stored (200)",
      input: { ...event, requestId: fresh() },
      expect: (answer) => answer.statusCode === 200 && answer.body.accepted === findingCount(event.body),
    },
    {
      name: 'an invalid body is refused with the validation issues (400)',
      input: { ...event, requestId: fresh(), body: { findings: [] } },
      expect: (answer) => answer.statusCode === 400 && Array.isArray(answer.body.errors),
    },
    {
      name: 'a request without a client certificate is forbidden (403)',
      input: { ...event, requestId: fresh(), principal: principalWithoutCertificate },
      expect: (answer) => answer.statusCode === 403 && answer.body.message === 'Forbidden',
    },
  ];
}

export async function runSmoke(
  client: SFNClient,
  stateMachineArn: string,
  report: (result: SmokeResult) => void = () => undefined,
): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  for (const smoke of smokeCases()) {
    let result: SmokeResult;
    try {
      const execution = await client.send(
        new StartSyncExecutionCommand({
          stateMachineArn,
          name: smoke.input.requestId,
          input: JSON.stringify(smoke.input),
        }),
      );
      if (execution.status !== 'SUCCEEDED') {
        result = {
          name: smoke.name,
          passed: false,
          detail: `execution ${execution.status}: ${execution.error ?? ''} ${execution.cause ?? ''}`.trim(),
        };
      } else {
        const output = JSON.parse(execution.output ?? '{}') as { statusCode?: number; body?: string };
        const body = JSON.parse(output.body ?? '{}') as Record<string, unknown>;
        result = {
          name: smoke.name,
          passed: smoke.expect({ statusCode: output.statusCode, body }),
          detail: `${output.statusCode} ${output.body ?? ''}`.slice(0, 200),
        };
      }
    } catch (error) {
      result = { name: smoke.name, passed: false, detail: `${(error as Error).name}: ${(error as Error).message}` };
    }
    results.push(result);
    report(result);
  }
  return results;
}

async function deployedTarget(
  stack: string,
  region: string | undefined,
): Promise<{ client: SFNClient; arn: string; where: string }> {
  const cloudFormation = new CloudFormationClient({
    ...(region ? { region } : {}),
    customUserAgent: userAgent('smoke'),
  });
  try {
    const description = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
    const arn = description.Stacks?.[0]?.Outputs?.find(
      (output) => output.OutputKey === 'IngestStateMachineArn',
    )?.OutputValue;
    if (!arn) throw new Error(`stack ${stack} has no IngestStateMachineArn output`);
    return {
      client: new SFNClient({ ...(region ? { region } : {}), customUserAgent: userAgent('smoke') }),
      arn,
      where: `stack ${stack} (${arn})`,
    };
  } finally {
    cloudFormation.destroy();
  }
}

async function localBackendWithGrants(): Promise<LocalBackend> {
  const backend = await startBackend({
    dynamoDbPort: 0,
    stepFunctionsPort: 0,
    environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  });
  const dynamoDb = localDynamoDbClient(backend.dynamoDbEndpoint);
  try {
    for (const { ou, grant } of DEMO_GRANTS) await putGrant(dynamoDb, backend.tableNames.AuthzTable, ou, grant);
  } finally {
    dynamoDb.destroy();
  }
  return backend;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { stack: { type: 'string' }, region: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    console.log('usage: npm run smoke -- [--stack NAME --region REGION]');
    return 0;
  }
  if (values.region && !values.stack) {
    console.error('smoke: --region needs --stack');
    return 2;
  }
  let backend: LocalBackend | undefined;
  let target: { client: SFNClient; arn: string; where: string };
  if (values.stack) target = await deployedTarget(values.stack, values.region);
  else {
    const running = discoverStack();
    const port = running?.ports.stepFunctions ?? targetPorts().stepFunctions;
    let endpoint = running?.stepFunctionsEndpoint ?? `http://127.0.0.1:${port}`;
    if (!(await isListening(port))) {
      console.log(
        `Nothing answers on port ${port}: starting a local backend in this process (in memory, demo grants).`,
      );
      backend = await localBackendWithGrants();
      endpoint = backend.stepFunctionsEndpoint as string;
    }
    // StartSyncExecution lives on the `sync-states` host in AWS; a local endpoint has no such prefix.
    const client = new SFNClient({
      endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      disableHostPrefix: true,
      customUserAgent: userAgent('smoke'),
    });
    target = { client, arn: localStateMachineArn(INGEST_STATE_MACHINE), where: `local Step Functions API ${endpoint}` };
  }
  console.log(`Smoke test against ${target.where}\n`);
  try {
    const results = await runSmoke(target.client, target.arn, printCheck);
    return summarize(results);
  } finally {
    target.client.destroy();
    await backend?.close();
  }
}

if (require.main === module) runMain(main);
