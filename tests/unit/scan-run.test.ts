/** Scan runs (functions/shared/core/scan-run.ts) and who may read one (authz-policy.ts openerMayRead). */
import { openerMayRead, type Decision } from '../../functions/shared/core/authz-policy';
import { identityFromPem, type CertificateIdentity } from '../../functions/shared/core/identity';
import { clientCertificate, otherCa, SCANNER_SUBJECT } from '../support/certificates';
import {
  completionStep,
  MAX_RUN_ASSETS,
  newAssets,
  newRun,
  receiptOf,
  runRequestSchema,
  RUN_ID_PATTERN,
  CLOSE_RESTART_AFTER_MS,
  closeExecutionName,
} from '../../functions/shared/core/scan-run';

const OPENER = { ou: 'scanner', serialNumber: '0A1B', certificateSha256: 'a'.repeat(64) };
const request = { org: 'org1', scanner: 'nessus', scannedAt: '2026-03-02T10:00:00+01:00' };

describe('runRequestSchema', () => {
  it('takes org, scanner and an ISO instant, stored as UTC', () => {
    expect(runRequestSchema.parse(request)).toEqual({
      org: 'org1',
      scanner: 'nessus',
      scannedAt: '2026-03-02T09:00:00.000Z',
    });
  });

  it('refuses a time without a zone, an impossible date, unknown fields and an oversized scope', () => {
    expect(runRequestSchema.safeParse({ ...request, scannedAt: '2026-03-02T10:00:00' }).success).toBe(false);
    expect(runRequestSchema.safeParse({ ...request, scannedAt: '2026-02-30T10:00:00Z' }).success).toBe(false);
    expect(runRequestSchema.safeParse({ ...request, extra: 1 }).success).toBe(false);
    const assets = Array.from({ length: MAX_RUN_ASSETS + 1 }, (_, index) => `host-${index}`);
    expect(runRequestSchema.safeParse({ ...request, scope: { assets } }).success).toBe(false);
  });

  it("normalizes scope assets as findings' asset names are", () => {
    expect(runRequestSchema.parse({ ...request, scope: { assets: [' Web-1.Example.COM '] } }).scope).toEqual({
      assets: ['web-1.example.com'],
    });
  });
});

describe('a run', () => {
  const run = newRun(
    '3f0c6c2e-8a4b-4c1d-9e2f-5a6b7c8d9e0f',
    runRequestSchema.parse({ ...request, scope: { assets: ['b', 'a', 'a'] } }),
    OPENER,
    new Date('2026-03-02T09:05:00Z'),
  );

  it('opens with zero counts, its scope as its first assets', () => {
    expect(run).toMatchObject({
      state: 'open',
      assets: ['a', 'b'],
      scopeAssets: ['a', 'b'],
      counts: { batches: 0, received: 0, created: 0, fixed: 0 },
    });
    expect(RUN_ID_PATTERN.test(run.runId)).toBe(true);
  });

  it("gives a receipt without the opener's identity", () => {
    const receipt = receiptOf(run);
    expect(receipt).not.toHaveProperty('opener');
    expect(JSON.stringify(receipt)).not.toContain(OPENER.serialNumber);
    expect(receipt).toMatchObject({ runId: run.runId, org: 'org1', state: 'open', assets: ['a', 'b'] });
  });

  it('counts only the assets it does not cover yet against its limit', () => {
    expect(newAssets(run, ['a', 'c', 'c'])).toEqual({ added: ['c'], overLimit: false });
    const full = { assets: Array.from({ length: MAX_RUN_ASSETS }, (_, index) => `host-${index}`) };
    expect(newAssets(full, ['host-1']).overLimit).toBe(false);
    expect(newAssets(full, ['one-more']).overLimit).toBe(true);
  });

  it('completing starts closing once; a closing run restarts only when its pass looks stuck; a closed run does nothing', () => {
    const now = new Date('2026-03-02T12:00:00Z');
    expect(completionStep({ state: 'open' }, now)).toBe('start');
    expect(completionStep({ state: 'closing', closingStartedAt: '2026-03-02T11:59:00Z' }, now)).toBe('nothing');
    expect(
      completionStep(
        { state: 'closing', closingStartedAt: new Date(now.getTime() - CLOSE_RESTART_AFTER_MS - 1).toISOString() },
        now,
      ),
    ).toBe('restart');
    expect(completionStep({ state: 'closed' }, now)).toBe('nothing');
  });
});

describe('closeExecutionName', () => {
  it('names a pass by its run and start: the same for every start of one pass, another for a later pass, a name StartExecution takes', () => {
    const runId = '3f2a1c4e-8b7d-4e6f-9a0b-1c2d3e4f5a6b';
    const name = closeExecutionName(runId, '2026-03-02T09:00:00.000Z');
    expect(name).toBe(`${runId}-1772442000000`);
    expect(closeExecutionName(runId, '2026-03-02T09:00:00.000Z')).toBe(name);
    expect(closeExecutionName(runId, '2026-03-02T09:15:00.001Z')).not.toBe(name);
    // StartExecution's name: at most 80 characters, none of whitespace, brackets, wildcards, " # % \ ^ | ~ ` $ & , ; : /.
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

describe('openerMayRead', () => {
  const SERIAL = '5CA1AB1E';
  let opener: CertificateIdentity;
  let recorded: { certificateSha256: string };
  beforeAll(async () => {
    opener = identityFromPem((await clientCertificate(SCANNER_SUBJECT, { serialNumber: SERIAL })).certPem);
    recorded = { certificateSha256: opener.certificateSha256 };
  });
  // A CA the authz table does not name: no issuerKey in the decision (deploy.md step 9 grants register none).
  const denied = (reason: string): Decision => ({ allowed: false, reason, ou: 'scanner', deniedOrgs: [] });

  it('lets the opener read without a GET grant, with no CA registered', () => {
    expect(openerMayRead(denied('method-not-granted'), opener, recorded)).toMatchObject({
      allowed: true,
      reason: 'run-opener',
    });
    expect(openerMayRead(denied('no-grant'), opener, recorded).allowed).toBe(true);
  });

  it('never lifts a denial about the certificate itself', () => {
    for (const reason of [
      'certificate-revoked',
      'issuer-revoked',
      'certificate-expired',
      'issuer-mismatch',
      'multiple-ous',
    ]) {
      expect([reason, openerMayRead(denied(reason), opener, recorded).allowed]).toEqual([reason, false]);
    }
  });

  it('refuses the same serial from another CA, the same subject and serial re-issued with another key, and a run recorded without a fingerprint', async () => {
    const impostors = {
      'same subject and serial, another CA': await clientCertificate(SCANNER_SUBJECT, {
        serialNumber: SERIAL,
        ca: await otherCa(),
      }),
      'same subject and serial, same CA, another key': await clientCertificate(SCANNER_SUBJECT, {
        serialNumber: SERIAL,
      }),
    };
    for (const [who, issued] of Object.entries(impostors)) {
      const identity = identityFromPem(issued.certPem);
      expect(identity.serialNumber).toBe(opener.serialNumber);
      expect([who, openerMayRead(denied('method-not-granted'), identity, recorded).allowed]).toEqual([who, false]);
    }
    expect(openerMayRead(denied('method-not-granted'), opener, {}).allowed).toBe(false);
  });
});
