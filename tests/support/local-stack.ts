/**
 * The local stack for integration tests: the real gateway (mTLS, OpenAPI routes, mapping
 * templates) in front of the real backend, on random loopback ports, with a dev PKI of its own in
 * a temporary directory. Grants are the demo ones (scanner: POST on every org; dashboard: GET on
 * org1-org3); grant reads are not cached and retries do not wait, so tests see changes at once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoDbClient } from '../../local/dynamodb/server';
import { call, type CallOptions, type CallResult, type ClientIdentity } from '../../client/mtls';
import { readAllFindings } from '../../client/read-findings';
import { userAgent } from '../../client/user-agent';
import { DEMO_GRANTS } from '../../local/seed';
import { startLocalStack, type LocalStack } from '../../local/stack';
import type { ThrottleSettings } from '../../local/gateway/throttle';
import type { CfnTemplate } from '../../local/cloudformation/template';
import { putGrant } from '../../functions/shared/adapters/authz-admin';
import { ensureDevPki, loadCertificateAuthority, type CertificateAuthority, type DevPki } from '../../local/pki';

export interface TestStackOptions {
  /** Persist DynamoDB data here (restart tests); default in memory. */
  dataDir?: string;
  /** Default 0 (random). A restart must reuse the port: the functions' SDK client keeps its endpoint. */
  dynamoDbPort?: number;
  /** Reuse a PKI directory (restart tests); default a fresh temporary one. */
  pkiDir?: string;
  throttle?: Partial<ThrottleSettings>;
  /** Template parameter values, as `npm start -- --parameter-overrides` gives them. */
  parameterOverrides?: Record<string, string>;
  /** Serve the Step Functions API on a random port. */
  stepFunctionsApi?: boolean;
  /** Put the demo grants (default true; a restarted persistent stack already has them). */
  grants?: boolean;
  /** The WAF size rule's action (default the template's: Block, bodies over 64 KB refused). */
  wafOversizeBodyAction?: 'Block' | 'Count';
  /** More CA certificates (PEM) for the truststore, after the dev CA. */
  trust?: string[];
  /** Run the local X-Ray daemon (random port) and keep traces here (in memory when the directory is omitted). */
  traces?: { dir?: string; maxTraces?: number };
  /** Extra environment for the functions (e.g. a log level other than SILENT, to check what they log). */
  environment?: Record<string, string>;
  /** Send the functions' DynamoDB calls here (a fault-injecting proxy) instead of to the server itself. */
  functionsDynamoDbEndpoint?: string;
  /** Evaluate IAM on the stack's own calls (default true, as `npm start`). */
  iam?: boolean;
  /** Read IAM's documents from this template instead of template.yaml (a copy with a statement removed). */
  iamTemplate?: CfnTemplate;
}

/** What a test sends; the User-Agent is the tests' own unless a test says otherwise (`null`: none). */
export type TestRequestOptions = Omit<CallOptions, 'caPem' | 'identity' | 'userAgent'> & { userAgent?: string | null };

export interface TestStack {
  url: string;
  pki: DevPki;
  /** The dev CA the gateway trusts, to issue more client certificates. */
  ca: CertificateAuthority;
  stack: LocalStack;
  dynamoDb: DynamoDBClient;
  tables: { FindingsTable: string; AuthzTable: string };
  /** Everything the gateway logged. */
  logs: Record<string, unknown>[];
  /** An HTTPS request to the gateway with `identity` as the client certificate (none when undefined). */
  request(identity: ClientIdentity | undefined, options?: TestRequestOptions): Promise<CallResult>;
  close(): Promise<void>;
}

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const temporary = options.pkiDir ? undefined : await mkdtemp(join(tmpdir(), 'vuln-api-pki-'));
  const pki = await ensureDevPki(options.pkiDir ?? join(temporary as string, 'pki'));
  const ca = await loadCertificateAuthority(pki.ca.certPem, pki.ca.keyPem);
  const logs: Record<string, unknown>[] = [];
  const stack = await startLocalStack({
    backend: {
      dynamoDbPort: options.dynamoDbPort ?? 0,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(options.stepFunctionsApi ? { stepFunctionsPort: 0 } : {}),
      retryIntervalMs: 0,
      ...(options.traces ? { traces: { ...options.traces, daemonPort: 0 } } : {}),
      environment: { GRANT_CACHE_SECONDS: '0', POWERTOOLS_LOG_LEVEL: 'SILENT', ...options.environment },
      ...(options.functionsDynamoDbEndpoint ? { functionsDynamoDbEndpoint: options.functionsDynamoDbEndpoint } : {}),
      ...(options.parameterOverrides ? { parameterOverrides: options.parameterOverrides } : {}),
      log: (entry) => logs.push(entry),
      iam: options.iam ?? true,
      ...(options.iamTemplate ? { iamTemplate: options.iamTemplate } : {}),
    },
    gateway: {
      tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem },
      truststorePem: [pki.ca.certPem, ...(options.trust ?? [])].join(''),
      port: 0,
      log: (entry) => logs.push(entry),
      ...(options.throttle ? { throttle: options.throttle } : {}),
      ...(options.wafOversizeBodyAction ? { wafOversizeBodyAction: options.wafOversizeBodyAction } : {}),
    },
  });
  const dynamoDb = localDynamoDbClient(stack.backend.dynamoDbEndpoint);
  if (options.grants ?? true) {
    // As the local seed does, and as docs/deploy.md step 9 grants: no CA registered, no pin.
    for (const { ou, grant } of DEMO_GRANTS) await putGrant(dynamoDb, stack.backend.tableNames.AuthzTable, ou, grant);
  }
  return {
    url: stack.url,
    pki,
    ca,
    stack,
    dynamoDb,
    tables: stack.backend.tableNames,
    logs,
    request: (identity, callOptions = {}) =>
      call(stack.url, {
        userAgent: userAgent('tests'),
        ...callOptions,
        ...(identity ? { identity } : {}),
        caPem: pki.ca.certPem,
      }),
    close: async () => {
      dynamoDb.destroy();
      await stack.close();
      if (temporary) await rm(temporary, { recursive: true, force: true });
    },
  };
}

/** The port of an http://127.0.0.1:PORT endpoint. */
export const portOf = (endpoint: string) => Number(new URL(endpoint).port);

/** Every finding GET /vuln answers for `query` (e.g. `org=org1&limit=20`), following nextToken to the end. */
export const allFindings = (
  stack: TestStack,
  identity: ClientIdentity,
  query: string,
  maxPages = 100,
): Promise<Record<string, unknown>[]> => readAllFindings((path) => stack.request(identity, { path }), query, maxPages);
