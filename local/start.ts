/**
 * `npm start`: the whole API on this machine. Dev PKI in .local/pki, DynamoDB-API server on
 * 127.0.0.1:${DYNAMODB_PORT:-8000} persisted under .local/dynamodb, the Step Functions API on
 * ${SFN_PORT:-8083}, and the mTLS gateway on https://localhost:${PORT:-3443}. Demo grants and
 * findings are seeded into empty tables only, so a restart keeps whatever was changed. Template
 * parameters follow `--parameter-overrides Key=Value …` and samconfig.toml's
 * `[default.local_start_api.parameters] parameter_overrides`, as in `sam local start-api`.
 * Tracing: the X-Ray daemon on UDP 127.0.0.1:${XRAY_DAEMON_PORT:-2000}, traces kept in .local/traces, and
 * the trace page on http://127.0.0.1:${TRACES_PORT:-3000}/traces; `npm start -- --no-traces` turns all three off.
 * Where it listens goes to .local/stack.json for the tools of a second terminal (stack-state.ts); a
 * second `npm start` in the same checkout stops with a message naming the first.
 */
import { localPorts } from './ports';
import { join, relative } from 'node:path';
import { writeFileSync } from 'node:fs';
import { jsonLineLog } from './gateway/log';
import { startLocalStack } from './stack';
import { resolveTruststore, truststoreSummary } from './truststore';
import { ensureDevPki } from './pki';
import { startOptions } from './start-options';
import { DEFAULT_TRACES_DIR } from './xray/tracing';
import { startTraceViewer, type TraceViewer } from './xray/viewer';
import { claimStackState, localStackDir, releaseStackState, stackStatePath, writeStackState } from './stack-state';
import { bindAddressWarning, bundleHolds, samEnvVars, stackBanner, startFailure } from './stack-banner';

// Everything of the running stack lives under .local/ (or $LOCAL_STACK_DIR).
const LOCAL_DIR = localStackDir();
const PKI_DIR = join(LOCAL_DIR, 'pki');
const DATA_DIR = join(LOCAL_DIR, 'dynamodb');
/** The template's generated secrets (the page-token MAC key), one file each, mode 0600. */
const SECRETS_DIR = join(LOCAL_DIR, 'secrets');

async function main(): Promise<void> {
  const options = startOptions(process.argv.slice(2));
  const tracing = options.traces;
  const ports = localPorts();
  // Before anything listens: a second stack in this checkout stops here, naming the first.
  claimStackState(LOCAL_DIR);
  const pki = await ensureDevPki(PKI_DIR);
  const devCaPath = join(PKI_DIR, 'ca.pem');
  const truststore = resolveTruststore({ devCaPath });
  console.log(`truststore ${relative(process.cwd(), truststore.source)}: ${truststoreSummary(truststore)}`);
  const trustsDevCa = bundleHolds(truststore.pem, pki.ca.certPem);
  const trustsRogueCa = bundleHolds(truststore.pem, pki.rogueCa.certPem);
  if (options.bindAddress) console.warn(bindAddressWarning(options.bindAddress));
  const stack = await startLocalStack({
    backend: {
      dynamoDbPort: ports.dynamoDb,
      dataDir: DATA_DIR,
      secretsDir: SECRETS_DIR,
      stepFunctionsPort: ports.stepFunctions,
      parameterOverrides: options.parameterOverrides,
      log: (entry) => jsonLineLog({ source: 'local-lambda', ...entry }),
      ...(tracing ? { traces: { dir: DEFAULT_TRACES_DIR, daemonPort: ports.xrayDaemon } } : {}),
      ...(options.bindAddress ? { bindAddress: options.bindAddress } : {}),
      iam: options.iam,
      onDenial: (denial) =>
        jsonLineLog({
          level: 'WARN',
          source: 'local-iam',
          ...denial,
          reason: denial.message,
          message: 'call denied by IAM',
        }),
    },
    gateway: {
      tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem },
      truststorePem: truststore.pem,
      port: ports.gateway,
      log: jsonLineLog,
    },
    // Seeding posts through the gateway with the dev scanner certificate: only where the truststore holds the dev CA.
    ...(trustsDevCa ? { seed: { scanner: pki.scanner, caPem: pki.ca.certPem } } : {}),
  });
  if (options.sources.length) {
    const overrides = Object.entries(options.parameterOverrides).map(([name, value]) => `${name}=${value}`);
    console.log(
      `parameter overrides (${options.sources.map((source) => relative(process.cwd(), source) || source).join(', ')}): ${overrides.join(' ')}`,
    );
  }
  if (stack.seeded?.grants)
    console.log('seeded demo grants: OU scanner may POST on every org; OU dashboard may GET org1, org2, org3');
  if (stack.seeded?.findings) console.log(`seeded ${stack.seeded.findings} demo findings through the gateway`);
  let viewer: TraceViewer | undefined;
  if (stack.backend.tracing) viewer = await startTraceViewer(stack.backend.tracing.store, { port: ports.traces });
  // ---- where this stack listens, for the tools of a second terminal (stack-state.ts)
  const { backend } = stack;
  const listening = {
    ...ports,
    gateway: stack.gateway.port,
    dynamoDb: portOf(backend.dynamoDbEndpoint),
    stepFunctions: backend.stepFunctionsEndpoint ? portOf(backend.stepFunctionsEndpoint) : ports.stepFunctions,
    ...(backend.tracing ? { xrayDaemon: Number(backend.tracing.daemon.address.split(':')[1]) } : {}),
    ...(viewer ? { traces: portOf(viewer.url) } : {}),
  };
  writeStackState(
    {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      ports: listening,
      gatewayUrl: stack.url,
      dynamoDbEndpoint: backend.dynamoDbEndpoint,
      ...(backend.stepFunctionsEndpoint ? { stepFunctionsEndpoint: backend.stepFunctionsEndpoint } : {}),
      secretsManagerEndpoint: backend.secretsManagerEndpoint,
      parameterOverrides: options.parameterOverrides,
      truststore: truststore.source,
      trustsDevCa,
      trustsRogueCa,
      pkiDir: PKI_DIR,
      dataDir: DATA_DIR,
      // The value the functions run with: the parameter as the stack resolved it (override, else default).
      grantCacheSeconds: Number(backend.resolver.resolve({ Ref: 'GrantCacheSeconds' })),
      bindAddress: options.bindAddress ?? '127.0.0.1',
    },
    LOCAL_DIR,
  );
  const samEnvVarsPath = join(LOCAL_DIR, 'sam-env-vars.json');
  writeFileSync(
    samEnvVarsPath,
    `${JSON.stringify(samEnvVars({ dynamoDb: listening.dynamoDb, secretsManager: portOf(backend.secretsManagerEndpoint) }), null, 2)}\n`,
  );
  console.log(
    stackBanner({
      url: stack.url,
      stepFunctionsEndpoint: backend.stepFunctionsEndpoint,
      dynamoDbEndpoint: backend.dynamoDbEndpoint,
      truststorePath: truststore.source,
      pkiDir: PKI_DIR,
      dataDir: DATA_DIR,
      statePath: stackStatePath(LOCAL_DIR),
      trustsDevCa,
      trustsRogueCa,
      iam: !backend.iam ? 'off' : backend.iam.dynamoDbEnforced ? 'enforced' : 'enforced-except-dynamodb',
    }),
  );
  if (viewer && backend.tracing) {
    console.log(
      `Traces: ${viewer.url}  (X-Ray daemon on udp ${backend.tracing.daemon.address}; npm run traces -- --last 5 prints them here)\n`,
    );
  }
  // ----

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the local stack`);
    Promise.resolve(viewer?.close())
      .then(() => stack.close())
      .then(
        () => {
          releaseStackState(LOCAL_DIR);
          process.exit(0);
        },
        (error: unknown) => {
          console.error(`error while stopping: ${(error as Error).message}`);
          releaseStackState(LOCAL_DIR);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

const portOf = (endpoint: string) => Number(new URL(endpoint).port);

main().catch((error: unknown) => {
  releaseStackState(LOCAL_DIR);
  console.error(startFailure(error));
  process.exit(1);
});
