/**
 * Which CA bundle client certificates are verified against, in the order the local stack contract
 * gives: `$TRUSTSTORE` (a PEM bundle), else `truststore/ca.pem` (the operator's bundle, the same file
 * deployed to S3), else the dev CA of `.local/pki`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { distinguishedName } from '../functions/shared/core/identity';
import { parsePemBundle } from '../functions/shared/core/pem-bundle';
import { PROJECT_ROOT } from './cloudformation/template';

export interface Truststore {
  pem: string;
  source: string;
  /** The subjects of the certificates it holds, in order (printed at start). */
  subjects: string[];
}

/**
 * Reads a truststore bundle: every certificate must parse, and markers must stand on their own lines,
 * or the stack refuses to start (PemBundleError): a bundle OpenSSL would read only in part would
 * trust less, or other certificates, than the file shows.
 */
export function loadTruststore(pem: string, source: string): Truststore {
  return {
    pem,
    source,
    subjects: parsePemBundle(pem, source).map((certificate) => distinguishedName(certificate.subject)),
  };
}

/** SHA-256 fingerprints (node's `AA:BB:…` form) of a bundle's certificates: what a chain may be built from. */
export function truststoreFingerprints(pem: string): Set<string> {
  return new Set(parsePemBundle(pem, 'truststore').map((certificate) => certificate.fingerprint256));
}

export function resolveTruststore(options: {
  environment?: NodeJS.ProcessEnv;
  projectRoot?: string;
  devCaPath: string;
}): Truststore {
  const environment = options.environment ?? process.env;
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const candidates = [
    environment.TRUSTSTORE ? resolve(environment.TRUSTSTORE) : undefined,
    resolve(projectRoot, 'truststore/ca.pem'),
    options.devCaPath,
  ];
  for (const [index, path] of candidates.entries()) {
    if (path === undefined) continue;
    // An explicit $TRUSTSTORE that is missing is an error, not a reason to trust something else.
    if (index === 0 && !existsSync(path)) throw new Error(`TRUSTSTORE=${path} does not exist`);
    if (!existsSync(path)) continue;
    return loadTruststore(readFileSync(path, 'utf8'), path);
  }
  throw new Error(`No truststore: set TRUSTSTORE, add truststore/ca.pem or create the dev CA at ${options.devCaPath}`);
}

/** "2 certificates: CN=A; CN=B", the line `npm start` prints so an operator sees what is trusted. */
export const truststoreSummary = (truststore: Truststore) =>
  `${truststore.subjects.length} certificate${truststore.subjects.length === 1 ? '' : 's'}: ${truststore.subjects.join('; ')}`;
