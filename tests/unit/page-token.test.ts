import { ValidationError } from '../../functions/shared/core/errors';
import { decodePageToken, encodePageToken } from '../../functions/shared/core/page-token';

const KEY = 'page-token-test-key-0123456789abcdefghijklmnop';
const INVALID = [{ index: null, path: 'nextToken', message: 'is not a valid page token for this org' }];

function expectInvalid(token: string, org = 'org1') {
  let thrown: unknown;
  try {
    decodePageToken(KEY, token, org);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ValidationError);
  expect((thrown as ValidationError).issues).toEqual(INVALID);
}

describe('page tokens', () => {
  it('round-trip the last VulnID for the same org', () => {
    expect(decodePageToken(KEY, encodePageToken(KEY, 'org1', 'CVE-2024:0001@host'), 'org1')).toBe('CVE-2024:0001@host');
  });

  it('are opaque URL-safe text', () => {
    const token = encodePageToken(KEY, 'org1', 'testID3');
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(token).not.toContain('testID3');
  });

  it('are refused for another org', () => {
    expectInvalid(encodePageToken(KEY, 'org1', 'testID3'), 'org2');
  });

  it('are refused when the payload is edited', () => {
    const [payload, tag] = encodePageToken(KEY, 'org1', 'testID3').split('.') as [string, string];
    const edited = Buffer.from(
      Buffer.from(payload, 'base64url').toString('utf8').replace('testID3', 'testID4'),
    ).toString('base64url');
    expectInvalid(`${edited}.${tag}`);
  });

  it('are refused when the tag is edited or missing', () => {
    const token = encodePageToken(KEY, 'org1', 'testID3');
    // The first character of the tag carries 6 bits of the MAC: changing it always changes the bytes.
    const dot = token.indexOf('.');
    const first = token[dot + 1] === 'A' ? 'B' : 'A';
    expectInvalid(`${token.slice(0, dot + 1)}${first}${token.slice(dot + 2)}`);
    expectInvalid(token.split('.')[0] as string);
    expectInvalid(`${token}.extra`);
  });

  it('are refused when the tag is spelled another way that decodes to the same bytes', () => {
    // 32 bytes are 43 base64url characters: the last one carries 4 bits and 2 spare bits a decoder ignores.
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const [payload, tag] = encodePageToken(KEY, 'org1', 'testID3').split('.') as [string, string];
    const last = ALPHABET.indexOf(tag.at(-1) as string);
    const respelled = `${tag.slice(0, -1)}${ALPHABET[(last & ~3) | ((last + 1) & 3)]}`;
    expect(respelled).not.toBe(tag);
    expect(Buffer.from(respelled, 'base64url').equals(Buffer.from(tag, 'base64url'))).toBe(true);
    expectInvalid(`${payload}.${respelled}`);
  });

  it('are refused when made with another key, however well formed', () => {
    expectInvalid(encodePageToken('another-key-0123456789abcdefghijklmnopqrs', 'org1', 'testID3'));
  });

  it.each(['', '.', 'garbage', 'a.b'])('refuse %j', (token) => {
    expectInvalid(token);
  });
});
