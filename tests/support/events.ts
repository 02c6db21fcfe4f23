/**
 * The events/ files: one realistic event per function for `sam local invoke`, plus the state machine's
 * execution input, all carrying real client certificates from a dedicated "Example Events CA".
 * `npm run events` (cli/make-events.ts) writes them; tests/emulator/events.test.ts runs every file through its
 * handler, and tests shape their own events with the same builders.
 */
import 'reflect-metadata';
import { X509Certificate as ParsedCertificate } from '@peculiar/x509';
import { X509Certificate } from 'node:crypto';
import { resolve } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Finding } from '../../functions/shared/core/finding-schema';
import { normalizeFindings } from '../../functions/shared/core/normalize';
import { formatDistinguishedName, formatSerialNumber } from '../../local/gateway/client-certificate';
import { REFERENCE_FINDING } from '../../local/seed';
import type { ClientCertificateContext } from '../../local/gateway/vtl';
import { createCertificateAuthority } from '../../local/pki';

export const EVENTS_DIR = resolve(__dirname, '..', '..', 'events');
export const EVENTS_CA_SUBJECT = 'CN=Example Events CA, O=Example Corp';
export const EVENTS_SCANNER_SUBJECT = 'CN=scanner-01, OU=scanner, O=Example Corp';
export const EVENTS_DASHBOARD_SUBJECT = 'CN=dashboard-01, OU=dashboard, O=Example Corp';
/** Long-lived so the committed events keep passing the validity check for years. */
const VALID_FROM = new Date('2025-01-01T00:00:00Z');
const VALID_UNTIL = new Date('2045-01-01T00:00:00Z');

const REQUEST_ID = 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef';
/** TEST-NET-3 (RFC 5737): an address that is documentation only. */
const SOURCE_IP = '203.0.113.10';

/** The reference request (local/seed.ts): the finding every event carries. */
export const EXAMPLE_FINDING: Finding = REFERENCE_FINDING;

/** The execution input's `principal`, as the POST mapping template builds it from the same context. */
export interface Principal {
  subjectDN: string;
  issuerDN: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  certPem: string;
}

/** `$context.identity.clientCert` for a certificate, formatted as the local gateway (and API Gateway) gives it. */
export function clientCertificateContext(certPem: string): ClientCertificateContext {
  const certificate = new X509Certificate(certPem);
  const parsed = new ParsedCertificate(certPem);
  return {
    clientCertPem: certPem,
    subjectDN: formatDistinguishedName(parsed.subjectName),
    issuerDN: formatDistinguishedName(parsed.issuerName),
    serialNumber: formatSerialNumber(certificate.serialNumber),
    validity: { notBefore: certificate.validFrom, notAfter: certificate.validTo },
  };
}

export function principalFor(certPem: string): Principal {
  const { clientCertPem, subjectDN, issuerDN, serialNumber, validity } = clientCertificateContext(certPem);
  return { subjectDN, issuerDN, serialNumber, notBefore: validity.notBefore, notAfter: validity.notAfter, certPem: clientCertPem };
}

export interface GetFindingsEventOptions {
  /** Query string parameters; a list gives a repeated parameter. */
  query?: Record<string, string | string[]>;
  /** The client certificate; undefined for a request without one. */
  certPem?: string;
  requestId?: string;
  sourceIp?: string;
}

/** A REST API (v1) proxy event for GET /vuln, as the mTLS custom domain delivers it. */
export function getFindingsEvent(options: GetFindingsEventOptions = {}): APIGatewayProxyEvent {
  const requestId = options.requestId ?? REQUEST_ID;
  const sourceIp = options.sourceIp ?? SOURCE_IP;
  const query = Object.entries(options.query ?? {});
  const multi = Object.fromEntries(query.map(([name, value]) => [name, Array.isArray(value) ? value : [value]]));
  const single = Object.fromEntries(query.map(([name, value]) => [name, Array.isArray(value) ? (value.at(-1) ?? '') : value]));
  const headers = {
    Accept: 'application/json',
    Host: 'vuln.example.com',
    'User-Agent': 'curl/8.5.0',
    'X-Amzn-Trace-Id': 'Root=1-65a1b2c3-0123456789abcdef01234567',
    'X-Forwarded-For': sourceIp,
    'X-Forwarded-Port': '443',
    'X-Forwarded-Proto': 'https',
  };
  return {
    resource: '/vuln',
    path: '/vuln',
    httpMethod: 'GET',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: query.length > 0 ? single : null,
    multiValueQueryStringParameters: query.length > 0 ? multi : null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'a1b2c3d4e5',
      authorizer: null,
      domainName: 'vuln.example.com',
      domainPrefix: 'vuln',
      extendedRequestId: 'ExAmPlEiDbQ=',
      httpMethod: 'GET',
      path: '/vuln',
      protocol: 'HTTP/1.1',
      requestId,
      requestTime: '01/Jan/2025:12:00:00 +0000',
      requestTimeEpoch: 1735732800000,
      resourceId: 'abc123',
      resourcePath: '/vuln',
      stage: 'prod',
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: options.certPem === undefined ? null : clientCertificateContext(options.certPem),
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: headers['User-Agent'],
        userArn: null,
      },
    },
  };
}

/** The state machine's execution input, as the POST /vuln mapping template builds it. */
export function ingestExecutionInput(body: unknown, certPem: string, requestId = REQUEST_ID, sourceIp = SOURCE_IP) {
  return { body, requestId, sourceIp, principal: principalFor(certPem) };
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

const README = `# events/

One realistic event per function, for \`sam local invoke\` and for the unit tests:
\`tests/emulator/events.test.ts\` runs every file here through its handler (against the local DynamoDB-API server), so each
example is known to work. Regenerate them all with \`node --import tsx cli/make-events.ts\`.

| File | Function / target | What it is |
| --- | --- | --- |
| \`validate.json\` | \`ValidateFunction\` | The payload the "Validate findings" task sends: \`{ body, requestId }\`, \`body\` being the reference finding |
| \`normalize.json\` | \`NormalizeFunction\` | \`{ findings: [...] }\`: Validate's output |
| \`authorize.json\` | \`AuthorizeFunction\` | \`{ method, principal, requestId, sourceIp, findings }\`: the scanner certificate and the normalized findings |
| \`write.json\` | \`WriteFunction\` | \`{ findings, requestId }\`: normalized findings (with \`Severity\`) to upsert |
| \`get-findings.json\` | \`GetFindingsFunction\` | A REST API proxy event for \`GET /vuln?org=org1\` with \`requestContext.identity.clientCert\` from the dashboard certificate |
| \`ingest-execution.json\` | \`IngestStateMachine\` | The execution input the \`POST /vuln\` mapping template builds: \`{ body, requestId, sourceIp, principal }\` |
| \`events-ca.pem\` | | The "Example Events CA" that issued the certificates inside the events (not a key, not trusted anywhere) |

The client certificates (scanner: \`${EVENTS_SCANNER_SUBJECT}\`, dashboard:
\`${EVENTS_DASHBOARD_SUBJECT}\`) are valid from ${VALID_FROM.toISOString().slice(0, 10)} to
${VALID_UNTIL.toISOString().slice(0, 10)}. Their private keys were never written anywhere: these certificates authenticate
nothing, they only give the handlers real X.509 to parse.

\`\`\`sh
sam build
sam local invoke ValidateFunction -e events/validate.json
sam local invoke NormalizeFunction -e events/normalize.json
sam local invoke AuthorizeFunction -e events/authorize.json      # reads grants from AUTHZ_TABLE_NAME
sam local invoke WriteFunction -e events/write.json              # writes to FINDINGS_TABLE_NAME
sam local invoke GetFindingsFunction -e events/get-findings.json
\`\`\`

\`AuthorizeFunction\`, \`WriteFunction\` and \`GetFindingsFunction\` call DynamoDB: pass \`--env-vars\` with
\`AUTHZ_TABLE_NAME\` / \`FINDINGS_TABLE_NAME\` (and \`AWS_ENDPOINT_URL_DYNAMODB\` for a DynamoDB endpoint the
container can reach), and grant the certificates' OUs in the authz table (\`npm run authz\`), or the
authorization step answers 403. \`sam local\` cannot run the state machine behind the API; \`npm start\`
does, and \`ingest-execution.json\` is the input it (and Step Functions) receives for a \`POST /vuln\`.
`;

/** Every file of events/ (name → content), with freshly issued certificates. */
export async function buildEventFiles(): Promise<Record<string, string>> {
  const validity = { notBefore: VALID_FROM, notAfter: VALID_UNTIL };
  const ca = await createCertificateAuthority(EVENTS_CA_SUBJECT, validity);
  const scanner = await ca.issue({ subject: EVENTS_SCANNER_SUBJECT, kind: 'client', ...validity });
  const dashboard = await ca.issue({ subject: EVENTS_DASHBOARD_SUBJECT, kind: 'client', ...validity });
  const findings = [EXAMPLE_FINDING];
  const normalized = normalizeFindings(findings);
  return {
    'validate.json': json({ body: EXAMPLE_FINDING, requestId: REQUEST_ID }),
    'normalize.json': json({ findings }),
    'authorize.json': json({ method: 'POST', principal: principalFor(scanner.certPem), requestId: REQUEST_ID, sourceIp: SOURCE_IP, findings: normalized }),
    'write.json': json({ findings: normalized, requestId: REQUEST_ID }),
    'get-findings.json': json(getFindingsEvent({ query: { org: 'org1' }, certPem: dashboard.certPem })),
    'ingest-execution.json': json(ingestExecutionInput(EXAMPLE_FINDING, scanner.certPem)),
    'events-ca.pem': ca.certPem,
    'README.md': README,
  };
}
