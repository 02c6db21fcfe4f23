import { createCertificateAuthority, type CertificateAuthority, type IssueOptions, type Issued } from '../../local/pki';

/**
 * Certificates for tests, issued in-process by the dev PKI module. Jest gives every test file its
 * own module registry, so these CAs are created once per test file.
 */
export const TEST_CA_SUBJECT = 'CN=Test CA, O=Example Corp';
export const OTHER_CA_SUBJECT = 'CN=Other Test CA, O=Other Corp';

let testAuthority: Promise<CertificateAuthority> | undefined;
let otherAuthority: Promise<CertificateAuthority> | undefined;

/** The CA every helper below issues from. */
export function testCa(): Promise<CertificateAuthority> {
  testAuthority ??= createCertificateAuthority(TEST_CA_SUBJECT);
  return testAuthority;
}

/** A second, unrelated CA (issuer-pin mismatches, untrusted issuers). */
export function otherCa(): Promise<CertificateAuthority> {
  otherAuthority ??= createCertificateAuthority(OTHER_CA_SUBJECT);
  return otherAuthority;
}

/** A client certificate from the test CA (or `ca`), e.g. `clientCertificate('CN=scanner-01, OU=scanner, O=Example Corp')`. */
export async function clientCertificate(
  subject: string,
  options: Omit<IssueOptions, 'subject' | 'kind'> & { ca?: CertificateAuthority } = {},
): Promise<Issued> {
  const { ca, ...issueOptions } = options;
  return (ca ?? (await testCa())).issue({ ...issueOptions, subject, kind: 'client' });
}

export const SCANNER_SUBJECT = 'CN=scanner-01, OU=scanner, O=Example Corp';
export const DASHBOARD_SUBJECT = 'CN=dashboard-01, OU=dashboard, O=Example Corp';

export const scannerCertificate = () => clientCertificate(SCANNER_SUBJECT);
export const dashboardCertificate = () => clientCertificate(DASHBOARD_SUBJECT);
