/**
 * Which CA bundle client certificates are verified against, in the order the local stack contract
 * gives: `$TRUSTSTORE` (a PEM bundle), else `truststore/ca.pem` (the operator's bundle, the same file
 * deployed to S3), else the dev CA of `.local/pki`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROJECT_ROOT } from './cloudformation/template';

export interface Truststore {
  pem: string;
  source: string;
}

export function resolveTruststore(options: { environment?: NodeJS.ProcessEnv; projectRoot?: string; devCaPath: string }): Truststore {
  const environment = options.environment ?? process.env;
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const candidates = [environment.TRUSTSTORE ? resolve(environment.TRUSTSTORE) : undefined, resolve(projectRoot, 'truststore/ca.pem'), options.devCaPath];
  for (const [index, path] of candidates.entries()) {
    if (path === undefined) continue;
    // An explicit $TRUSTSTORE that is missing is an error, not a reason to trust something else.
    if (index === 0 && !existsSync(path)) throw new Error(`TRUSTSTORE=${path} does not exist`);
    if (!existsSync(path)) continue;
    const pem = readFileSync(path, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`${path} holds no PEM certificate`);
    return { pem, source: path };
  }
  throw new Error(`No truststore: set TRUSTSTORE, add truststore/ca.pem or create the dev CA at ${options.devCaPath}`);
}
