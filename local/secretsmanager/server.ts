/**
 * The Secrets Manager API's GetSecretValue (AWS JSON 1.1 protocol) for the template's
 * `AWS::SecretsManager::Secret` resources, on loopback, so the functions read their secrets through
 * Powertools Parameters exactly as on AWS (`AWS_ENDPOINT_URL_SECRETS_MANAGER` points the SDK here).
 * A secret with GenerateSecretString gets a random value, kept in `<dir>/<LogicalId>` (mode 0600)
 * when a directory is given so a restart keeps it, else in memory. Any local process can read it:
 * the local stack's secrets protect nothing on a shared machine (docs/threat-model.md).
 * Shapes: "GetSecretValue", AWS Secrets Manager API Reference.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { readBody } from '../http-body';
import { listenOnLoopback, type LoopbackListener } from '../loopback';
import { LOCAL_ACCOUNT, LOCAL_PARTITION, LOCAL_REGION } from '../aws-local';
import { secretsManagerCall } from '../iam/calls';
import { callerOf } from '../iam/credentials';
import type { IamGate } from '../iam/gate';

export const localSecretArn = (logicalId: string) =>
  `arn:${LOCAL_PARTITION}:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${logicalId}-local`;

const MAX_REQUEST_BYTES = 64 * 1024;

/** 64 letters and digits, like GenerateSecretString with PasswordLength 64 and ExcludePunctuation. */
const generatedSecret = () =>
  randomBytes(96)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 64);

/** The secret of `logicalId`: read from its key file, or generated (and written with mode 0600 when `dir` is set). */
async function secretValue(logicalId: string, dir: string | undefined): Promise<string> {
  if (dir === undefined) return generatedSecret();
  const path = join(dir, logicalId);
  try {
    const stored = (await readFile(path, 'utf8')).trim();
    if (stored !== '') return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const value = generatedSecret();
  await writeFile(path, `${value}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return value;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify(body));
}

export interface LocalSecretsManager extends LoopbackListener {
  arns: Record<string, string>;
  /** From now on every call is evaluated against the stack's IAM (local/iam/gate.ts). */
  enforceIam(gate: IamGate): void;
}

export async function startSecretsManager(
  logicalIds: string[],
  options: { dir?: string; port?: number; host?: string } = {},
): Promise<LocalSecretsManager> {
  const secrets = new Map<string, { name: string; value: string; versionId: string }>();
  const arns: Record<string, string> = {};
  for (const logicalId of logicalIds) {
    const arn = localSecretArn(logicalId);
    arns[logicalId] = arn;
    const secret = { name: logicalId, value: await secretValue(logicalId, options.dir), versionId: randomUUID() };
    secrets.set(arn, secret);
    secrets.set(logicalId, secret);
  }
  let gate: IamGate | undefined;
  const server = createServer((request, response) => {
    void (async () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const read = await readBody(request, MAX_REQUEST_BYTES);
      if (request.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        send(response, 400, { __type: 'UnknownOperationException', message: `Unsupported operation ${target}` });
        return;
      }
      let secretId: unknown;
      try {
        secretId = read.ok ? (JSON.parse(read.body.toString('utf8')) as { SecretId?: unknown }).SecretId : undefined;
      } catch {
        secretId = undefined;
      }
      const secret = typeof secretId === 'string' ? secrets.get(secretId) : undefined;
      if (!secret) {
        send(response, 400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
        return;
      }
      if (gate) {
        const verdict = await gate.check(
          callerOf(request.headers.authorization),
          secretsManagerCall(target, localSecretArn(secret.name), gate.stack),
        );
        // No route from the function's subnets: no answer, as a blackholed route fails.
        if (verdict.kind === 'unreachable') return void request.socket.destroy();
        if (verdict.kind === 'denied') {
          // A key the caller may not use through Secrets Manager is worded by the service, not by KMS.
          send(response, 400, {
            __type: verdict.code,
            message: verdict.kms ? 'Access to KMS is not allowed' : verdict.message,
          });
          return;
        }
      }
      send(response, 200, {
        ARN: localSecretArn(secret.name),
        Name: secret.name,
        SecretString: secret.value,
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 0,
      });
    })();
  });
  return {
    ...(await listenOnLoopback(server, options.port ?? 0, 'http', options.host)),
    arns,
    enforceIam: (enforcing) => {
      gate = enforcing;
    },
  };
}
