import { ForbiddenError } from '../../functions/shared/core/errors';
import { rememberAbsence } from '../../functions/shared/core/absence-cache';
import { boundedMemo } from '../../functions/shared/core/bounded-memo';
import { identityFromPem, issuerKeyOf, parseCertificate, signedBy } from '../../functions/shared/core/identity';
import { clientCertificate, otherCa, testCa, SCANNER_SUBJECT } from '../support/certificates';

describe('boundedMemo', () => {
  it('computes each key once and forgets the oldest beyond its bound', () => {
    const calls: string[] = [];
    const memo = boundedMemo((key: string) => {
      calls.push(key);
      return key.toUpperCase();
    }, 2);
    expect([memo('a'), memo('a'), memo('b'), memo('a')]).toEqual(['A', 'A', 'B', 'A']);
    expect(calls).toEqual(['a', 'b']);
    memo('c'); // evicts 'a', the oldest
    memo('a');
    expect(calls).toEqual(['a', 'b', 'c', 'a']);
  });

  it('does not remember a failure', () => {
    let attempts = 0;
    const memo = boundedMemo(() => {
      attempts += 1;
      throw new Error('no');
    }, 4);
    expect(() => memo('x')).toThrow('no');
    expect(() => memo('x')).toThrow('no');
    expect(attempts).toBe(2);
  });
});

describe('identityFromPem and signedBy reuse their work', () => {
  it('parses a PEM once per environment and still refuses what does not parse', async () => {
    const scanner = await clientCertificate(SCANNER_SUBJECT);
    const first = identityFromPem(scanner.certPem);
    expect(identityFromPem(scanner.certPem)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => identityFromPem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toThrow(
      ForbiddenError,
    );
  });

  it('remembers a verdict per certificate and key, and the verdicts stay right', async () => {
    const [ca, other] = await Promise.all([testCa(), otherCa()]);
    const scanner = await clientCertificate(SCANNER_SUBJECT, { ca });
    const certificate = identityFromPem(scanner.certPem).certificate;
    const caKey = issuerKeyOf(parseCertificate(ca.certPem)).publicKey;
    const otherKey = issuerKeyOf(parseCertificate(other.certPem)).publicKey;
    const verify = jest.spyOn(certificate, 'verify');
    expect(await signedBy(certificate, caKey)).toBe(true);
    expect(await signedBy(certificate, otherKey)).toBe(false);
    expect(await signedBy(certificate, caKey)).toBe(true);
    expect(await signedBy(certificate, otherKey)).toBe(false);
    expect(verify).toHaveBeenCalledTimes(2);
  });
});

describe('rememberAbsence', () => {
  const store = () => {
    const values = new Map<string, string>();
    const reads: string[] = [];
    const read = async (key: string) => {
      reads.push(key);
      return values.get(key);
    };
    return { values, reads, read };
  };

  it('reads a missing key once within the cache time, and sees it appear after', async () => {
    let clock = 0;
    const { values, reads, read } = store();
    const cached = rememberAbsence(read, 30, { now: () => clock });
    expect(await cached('revocation#1')).toBeUndefined();
    values.set('revocation#1', 'revoked');
    clock = 29_999;
    expect(await cached('revocation#1')).toBeUndefined();
    expect(reads).toHaveLength(1);
    clock = 30_000;
    expect(await cached('revocation#1')).toBe('revoked');
    expect(reads).toHaveLength(2);
  });

  it('leaves found values to the caller (Powertools caches those) and remembers nothing with 0 seconds', async () => {
    const { values, reads, read } = store();
    values.set('grant#scanner', 'grant');
    const cached = rememberAbsence(read, 0);
    await cached('grant#scanner');
    await cached('grant#scanner');
    await cached('revocation#1');
    await cached('revocation#1');
    expect(reads).toEqual(['grant#scanner', 'grant#scanner', 'revocation#1', 'revocation#1']);
  });

  it('keeps at most maxEntries absences', async () => {
    const { reads, read } = store();
    const cached = rememberAbsence(read, 30, { maxEntries: 2, now: () => 0 });
    for (const key of ['a', 'b', 'c', 'a']) await cached(key);
    expect(reads).toEqual(['a', 'b', 'c', 'a']);
  });
});
