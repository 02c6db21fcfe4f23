/**
 * What `npm start` prints once the stack listens: where everything is and ready-to-paste curl
 * commands (absolute paths, so they work from any folder), each labelled with the answer it gets
 * from the truststore actually in use: with a truststore that does not hold the dev CA the dev
 * certificates are refused, and with one that holds the rogue CA the rogue certificate is not.
 * Also the `--env-vars` file for `sam local invoke` in a container (see docs/local-stack.md).
 */
import { X509Certificate } from 'node:crypto';
import { PemBundleError } from '../functions/shared/core/pem-bundle';
import { REFERENCE_FINDING } from './seed';
import { StackAlreadyRunningError } from './stack-state';
import { truststoreFingerprints } from './truststore';

/** Whether a PEM bundle (the truststore) holds the CA certificate `caPem`. */
export function bundleHolds(bundlePem: string, caPem: string): boolean {
  return truststoreFingerprints(bundlePem).has(new X509Certificate(caPem).fingerprint256);
}

export interface BannerInput {
  url: string;
  stepFunctionsEndpoint: string | undefined;
  dynamoDbEndpoint: string;
  truststorePath: string;
  pkiDir: string;
  dataDir: string;
  statePath: string;
  trustsDevCa: boolean;
  trustsRogueCa: boolean;
  /** IAM on the stack's own calls: enforced (and whether DynamoDB is covered), or off (`--no-iam`). */
  iam: 'enforced' | 'enforced-except-dynamodb' | 'off';
}

const IAM_LINE = {
  enforced: 'enforced on every call the functions and state machines make (npm start --no-iam turns it off)',
  'enforced-except-dynamodb':
    'enforced on Secrets Manager, Step Functions and Lambda calls; not on DynamoDB Local (LOCAL_DYNAMODB)',
  off: 'OFF (--no-iam): the local stack does not evaluate IAM, so a call AWS would deny succeeds here',
};

export function stackBanner(input: BannerInput): string {
  const { url, pkiDir } = input;
  const quote = (path: string) => (/^[\w/.@:+-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`);
  const tls = (name: string) =>
    `--cacert ${quote(`${pkiDir}/ca.pem`)} --cert ${quote(`${pkiDir}/${name}.pem`)} --key ${quote(`${pkiDir}/${name}-key.pem`)}`;
  const refused = '403: the truststore does not hold the dev CA, so the TLS layer refuses this certificate';
  const devAnswer = (answer: string) => (input.trustsDevCa ? answer : refused);
  const finding = JSON.stringify(REFERENCE_FINDING);
  return [
    '',
    `Vulnerability API (local) on ${url}`,
    `  truststore: ${input.truststorePath}${input.trustsDevCa ? '' : '  (does not hold the dev CA: the dev client certificates below are refused)'}`,
    `  DynamoDB:   ${input.dynamoDbEndpoint}   Step Functions API: ${input.stepFunctionsEndpoint ?? 'off'}`,
    `  IAM:        ${IAM_LINE[input.iam]}`,
    `  where this stack listens, for other terminals: ${input.statePath}`,
    '',
    `A scanner certificate (OU=scanner) posts the reference finding (${devAnswer('200')}):`,
    `  curl ${tls('scanner')} -H 'content-type: application/json' -d '${finding}' ${url}/vuln`,
    '',
    `A dashboard certificate (OU=dashboard) reads org1 (${devAnswer('200')}):`,
    `  curl ${tls('dashboard')} '${url}/vuln?org=org1'`,
    '',
    `The dashboard may not read org5 (${devAnswer('403')}):`,
    `  curl ${tls('dashboard')} '${url}/vuln?org=org5'`,
    '',
    input.trustsRogueCa
      ? "The truststore holds the dev PKI's rogue CA: this certificate is TRUSTED, and only its grants stand in its way:"
      : 'A client certificate from another CA never reaches a route (403):',
    `  curl ${tls('rogue')} '${url}/vuln?org=org1'`,
    '',
    'Grants: npm run authz -- list    Replay the reference scenarios: npm run demo    One function: npm run invoke -- ValidateFunction -e events/validate.json',
    `Ctrl-C (or SIGTERM) stops the stack; data stays in ${input.dataDir}.`,
    '',
  ].join('\n');
}

/** The warning `--bind-address` prints: the servers behind the gateway check no credentials. */
export const bindAddressWarning = (address: string) =>
  `WARNING: --bind-address ${address}: the DynamoDB, Secrets Manager and Step Functions API servers now listen on ${address}. ` +
  'They check no credentials: anyone who reaches that address can read and change every table (grants included) and run the workflow. ' +
  "Use it on a trusted network only (Docker's bridge address, e.g. 172.17.0.1, rather than 0.0.0.0).";

/**
 * An `--env-vars` file for `sam local invoke` in a container: every function reaches the local
 * stack's DynamoDB and Secrets Manager through `host.docker.internal`. SAM CLI applies only the
 * variables a function declares in the template (aws/aws-sam-cli#6145), so it takes effect where
 * the template declares AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SECRETS_MANAGER (see
 * docs/local-stack.md).
 */
export function samEnvVars(
  ports: { dynamoDb: number; secretsManager: number },
  host = 'host.docker.internal',
): { Parameters: Record<string, string> } {
  return {
    Parameters: {
      AWS_ENDPOINT_URL_DYNAMODB: `http://${host}:${ports.dynamoDb}`,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://${host}:${ports.secretsManager}`,
    },
  };
}

/** What `npm start` prints when it cannot start: a sentence, never a stack trace (DEBUG=1 adds it). */
export function startFailure(error: unknown, environment: NodeJS.ProcessEnv = process.env): string {
  const failure = error instanceof Error ? error : new Error(String(error));
  const code = (failure as NodeJS.ErrnoException).code;
  let message: string;
  if (failure instanceof StackAlreadyRunningError) message = failure.message;
  else if (failure instanceof PemBundleError) message = `refusing to start: ${failure.message}`;
  else if (code === 'EADDRINUSE')
    message = `A port is already in use (${failure.message}); set PORT, DYNAMODB_PORT, SFN_PORT, XRAY_DAEMON_PORT or TRACES_PORT to free ports, or stop what listens there.`;
  else message = `npm start failed: ${failure.message}`;
  return environment.DEBUG ? `${message}\n${failure.stack ?? ''}` : message;
}
