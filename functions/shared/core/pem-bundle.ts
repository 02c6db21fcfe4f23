import { X509Certificate } from 'node:crypto';

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';
/** A block whose markers each stand on a line of their own, as RFC 7468 and OpenSSL's reader require. */
const BLOCK = /^-----BEGIN CERTIFICATE-----\r?\n([\s\S]*?)^-----END CERTIFICATE-----\r?$/gm;

export class PemBundleError extends Error {
  override readonly name = 'PemBundleError';
}

const count = (text: string, marker: string) => text.split(marker).length - 1;

/**
 * The certificates of a PEM bundle, in order. Refuses (PemBundleError) what OpenSSL would read
 * differently or skip in silence: a marker that does not stand on its own line (two files
 * concatenated without a final newline glue `-----END CERTIFICATE----------BEGIN ...`), a block that
 * does not parse as X.509, or no certificate at all. Text outside the blocks is ignored, as OpenSSL does.
 */
export function parsePemBundle(text: string, source: string): X509Certificate[] {
  const blocks = [...text.matchAll(BLOCK)];
  const markers = count(text, BEGIN);
  if (markers !== blocks.length || count(text, END) !== blocks.length) {
    throw new PemBundleError(
      `${source}: a BEGIN/END CERTIFICATE marker is not on a line of its own (files concatenated without a final newline?); fix the file, no certificate of it is trusted`,
    );
  }
  if (blocks.length === 0) throw new PemBundleError(`${source} holds no PEM certificate`);
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block[0]);
    } catch {
      throw new PemBundleError(
        `${source}: certificate ${index + 1} of ${blocks.length} is not a valid X.509 certificate`,
      );
    }
  });
}

/** PEM text as the project writes it: every block ends with a newline, so files concatenate safely. */
export const withFinalNewline = (pem: string) => (pem.endsWith('\n') ? pem : `${pem}\n`);
