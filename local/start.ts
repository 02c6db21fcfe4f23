/**
 * `npm start`: the whole API on this machine. Dev PKI in .local/pki, DynamoDB-API server on
 * 127.0.0.1:${DYNAMODB_PORT:-8000} persisted under .local/dynamodb, the Step Functions API on
 * ${SFN_PORT:-8083}, and the mTLS gateway on https://localhost:${PORT:-3443}. Demo grants and
 * findings are seeded into empty tables only, so a restart keeps whatever was changed. Template
 * parameters follow `--parameter-overrides Key=Value …` and samconfig.toml's
 * `[default.local_start_api.parameters] parameter_overrides`, as in `sam local start-api`.
 * Tracing: the X-Ray daemon on UDP 127.0.0.1:${XRAY_DAEMON_PORT:-2000}, traces kept in .local/traces, and
 * the trace page on http://127.0.0.1:${TRACES_PORT:-3000}/traces; `npm start -- --no-traces` turns all three off.
 */
import { localPorts } from './ports';
import { join, relative } from 'node:path';
import { jsonLineLog } from './gateway/log';
import { REFERENCE_FINDING } from './seed';
import { startLocalStack } from './stack';
import { resolveTruststore, truststoreSummary } from './truststore';
import { PemBundleError } from '../functions/shared/core/pem-bundle';
import { ensureDevPki } from './pki';
import { PROJECT_ROOT } from './cloudformation/template';
import { startOptions } from './start-options';
import { DEFAULT_TRACES_DIR } from './xray/tracing';
import { startTraceViewer, type TraceViewer } from './xray/viewer';

const PKI_DIR = join(PROJECT_ROOT, '.local/pki');
const DATA_DIR = join(PROJECT_ROOT, '.local/dynamodb');
/** The template's generated secrets (the page-token MAC key), one file each, mode 0600. */
const SECRETS_DIR = join(PROJECT_ROOT, '.local/secrets');

function instructions(url: string, stepFunctionsEndpoint: string | undefined, dynamoDbEndpoint: string, truststoreSource: string, devTruststore: boolean): string {
  const pki = relative(process.cwd(), PKI_DIR) || '.';
  const tls = (name: string) => `--cacert ${pki}/ca.pem --cert ${pki}/${name}.pem --key ${pki}/${name}-key.pem`;
  const finding = JSON.stringify(REFERENCE_FINDING);
  return [
    '',
    `Vulnerability API (local) on ${url}`,
    `  truststore: ${relative(process.cwd(), truststoreSource)}${devTruststore ? '' : '  (not the dev CA: the dev client certificates below will be refused)'}`,
    `  DynamoDB:   ${dynamoDbEndpoint}   Step Functions API: ${stepFunctionsEndpoint ?? 'off'}`,
    '',
    'A scanner certificate (OU=scanner) posts the reference finding (200):',
    `  curl ${tls('scanner')} -H 'content-type: application/json' -d '${finding}' ${url}/vuln`,
    '',
    'A dashboard certificate (OU=dashboard) reads org1 (200):',
    `  curl ${tls('dashboard')} '${url}/vuln?org=org1'`,
    '',
    'The dashboard may not read org5 (403):',
    `  curl ${tls('dashboard')} '${url}/vuln?org=org5'`,
    '',
    'A client certificate from another CA never reaches a route (403):',
    `  curl ${tls('rogue')} '${url}/vuln?org=org1'`,
    '',
    'Grants: npm run authz -- list    Replay the reference scenarios: npm run demo',
    'Ctrl-C stops the stack; data stays in .local/dynamodb.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const options = startOptions(process.argv.slice(2));
  const tracing = options.traces;
  const ports = localPorts();
  const pki = await ensureDevPki(PKI_DIR);
  const devCaPath = join(PKI_DIR, 'ca.pem');
  const truststore = resolveTruststore({ devCaPath });
  console.log(`truststore ${relative(process.cwd(), truststore.source)}: ${truststoreSummary(truststore)}`);
  const stack = await startLocalStack({
    backend: {
      dynamoDbPort: ports.dynamoDb,
      dataDir: DATA_DIR,
      secretsDir: SECRETS_DIR,
      stepFunctionsPort: ports.stepFunctions,
      parameterOverrides: options.parameterOverrides,
      log: (entry) => jsonLineLog({ source: 'local-lambda', ...entry }),
      ...(tracing ? { traces: { dir: DEFAULT_TRACES_DIR, daemonPort: ports.xrayDaemon } } : {}),
    },
    gateway: { tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem }, truststorePem: truststore.pem, port: ports.gateway, log: jsonLineLog },
    // Seeding posts through the gateway with the dev scanner certificate, which only the dev CA trusts.
    ...(truststore.source === devCaPath ? { seed: { scanner: pki.scanner, caPem: pki.ca.certPem } } : {}),
  });
  if (options.sources.length) {
    const overrides = Object.entries(options.parameterOverrides).map(([name, value]) => `${name}=${value}`);
    console.log(`parameter overrides (${options.sources.map((source) => relative(process.cwd(), source) || source).join(', ')}): ${overrides.join(' ')}`);
  }
  if (stack.seeded?.grants) console.log('seeded demo grants: OU scanner may POST on every org; OU dashboard may GET org1, org2, org3');
  if (stack.seeded?.findings) console.log(`seeded ${stack.seeded.findings} demo findings through the gateway`);
  let viewer: TraceViewer | undefined;
  if (stack.backend.tracing) {
    viewer = await startTraceViewer(stack.backend.tracing.store, { port: ports.traces });
  }
  console.log(instructions(stack.url, stack.backend.stepFunctionsEndpoint, stack.backend.dynamoDbEndpoint, truststore.source, truststore.source === devCaPath));
  if (viewer && stack.backend.tracing) {
    console.log(`Traces: ${viewer.url}  (X-Ray daemon on udp ${stack.backend.tracing.daemon.address}; npm run traces -- --last 5 prints them here)\n`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the local stack`);
    Promise.resolve(viewer?.close())
      .then(() => stack.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error('error while stopping:', error);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code;
  if (error instanceof PemBundleError) console.error(`refusing to start: ${error.message}`);
  else if (code === 'EADDRINUSE') console.error(`A port is already in use (${(error as Error).message}); set PORT, DYNAMODB_PORT, SFN_PORT, XRAY_DAEMON_PORT or TRACES_PORT, or stop the other stack.`);
  else console.error(error);
  process.exit(1);
});
