/**
 * What the tests of api/openapi.yaml share: a resolver giving its intrinsic functions local ARNs, and a
 * `$context` for rendering its mapping templates outside a running gateway.
 */
import { LocalResolver } from '../../local/cloudformation/intrinsics';
import { loadTemplate } from '../../local/cloudformation/template';
import type { ClientCertificateContext, TemplateContext } from '../../local/gateway/vtl';

export const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:IngestStateMachine';
export const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:GetFindingsFunction';

export const SCAN_RUNS_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:ScanRunsStateMachine';
export const GET_SCAN_RUN_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:GetScanRunFunction';
export const TRIAGE_FINDINGS_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:TriageFindingsFunction';

export const apiResolver = () =>
  new LocalResolver(loadTemplate(), {
    refs: { IngestStateMachine: STATE_MACHINE_ARN, ScanRunsStateMachine: SCAN_RUNS_STATE_MACHINE_ARN },
    attributes: {
      'GetFindingsFunction.Arn': FUNCTION_ARN,
      'GetScanRunFunction.Arn': GET_SCAN_RUN_FUNCTION_ARN,
      'TriageFindingsFunction.Arn': TRIAGE_FINDINGS_FUNCTION_ARN,
      'GetFindingHistoryFunction.Arn': 'arn:aws:lambda:us-east-1:000000000000:function:GetFindingHistoryFunction',
      'GetOrgSummaryFunction.Arn': 'arn:aws:lambda:us-east-1:000000000000:function:GetOrgSummaryFunction',
      'ApiStepFunctionsRole.Arn': 'arn:aws:iam::000000000000:role/ApiStepFunctionsRole',
      'ApiScanRunsRole.Arn': 'arn:aws:iam::000000000000:role/ApiScanRunsRole',
    },
  });

/** A `$context` as API Gateway gives it to a POST /vuln template; `clientCert` fields and the rest can be replaced. */
export function templateContext(
  clientCert: Partial<ClientCertificateContext> = {},
  overrides: Partial<TemplateContext> = {},
): TemplateContext {
  return {
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    extendedRequestId: 'BQGojGkEIAMF4ZQ=',
    httpMethod: 'POST',
    resourcePath: '/vuln',
    path: '/vuln',
    stage: 'v1',
    requestTime: '22/Nov/2026:09:57:07 +0000',
    requestTimeEpoch: 1795600627000,
    protocol: 'HTTP/1.1',
    domainName: 'vuln.example.com',
    apiId: 'a1b2c3d4e5',
    accountId: '123456789012',
    identity: {
      sourceIp: '203.0.113.10',
      userAgent: 'curl/8.5.0',
      clientCert: {
        clientCertPem: '-----BEGIN CERTIFICATE-----\nMIIB/w==\n-----END CERTIFICATE-----\n',
        subjectDN: 'CN=scanner-01,OU=scanner,O=Example Corp',
        issuerDN: 'CN=Dev CA,O=Example Corp',
        serialNumber: '4a:0b',
        validity: { notBefore: 'Nov 22 09:57:07 2026 GMT', notAfter: 'Dec 24 09:57:07 2027 GMT' },
        ...clientCert,
      },
    },
    ...overrides,
  };
}
