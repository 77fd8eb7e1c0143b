// The signed candidate format: what verifies, what is refused and why, and how versions order.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CandidateRefused, compareVersions, generateSigningKeys, parseCandidate, signConfig, verifySignature,
} from '../../src/remote-config/signed-config.js';

const keys = generateSigningKeys();
const other = generateSigningKeys();
const SITE = 'site: a\nmqtt: { url: mqtt://127.0.0.1:1 }\n';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CandidateRefused) return err.reason;
    throw err;
  }
  return 'accepted';
}

describe('signed candidates', () => {
  it('a message signed with the private key verifies with the public key and carries text and version', () => {
    const message = Buffer.from(signConfig('7', SITE, keys.privateKey));
    const c = parseCandidate(message, 1 << 20);
    expect(c).toMatchObject({ version: '7', site: SITE });
    expect(verifySignature(c, keys.publicKey)).toBe(true);
  });

  it('another key, a changed site text or a changed version does not verify', () => {
    const c = parseCandidate(Buffer.from(signConfig('7', SITE, keys.privateKey)), 1 << 20);
    expect(verifySignature(c, other.publicKey)).toBe(false);
    expect(verifySignature({ ...c, site: `${SITE} ` }, keys.publicKey)).toBe(false);
    expect(verifySignature({ ...c, version: '8' }, keys.publicKey)).toBe(false);
    expect(verifySignature({ ...c, signature: c.signature.subarray(0, 10) }, keys.publicKey)).toBe(false);
  });

  const signed = JSON.parse(signConfig('7', SITE, keys.privateKey)) as Record<string, unknown>;
  const rows: [string, Buffer, number, string][] = [
    ['larger than the limit', Buffer.from(JSON.stringify(signed)), 100, 'too_large'],
    ['not JSON', Buffer.from('site: a'), 1 << 20, 'malformed'],
    ['a JSON array', Buffer.from('[]'), 1 << 20, 'malformed'],
    ['another format', Buffer.from(JSON.stringify({ ...signed, format: 'x/1' })), 1 << 20, 'malformed'],
    ['no signature', Buffer.from(JSON.stringify({ ...signed, signature: undefined })), 1 << 20, 'unsigned'],
    ['an empty signature', Buffer.from(JSON.stringify({ ...signed, signature: '' })), 1 << 20, 'unsigned'],
    ['a signature that is not base64', Buffer.from(JSON.stringify({ ...signed, signature: 'not base64!' })), 1 << 20, 'bad_signature'],
    ['a version with a slash', Buffer.from(JSON.stringify({ ...signed, version: '../etc' })), 1 << 20, 'bad_version'],
    ['a numeric version', Buffer.from(JSON.stringify({ ...signed, version: 7 })), 1 << 20, 'bad_version'],
    ['a site text over 4 MiB', Buffer.from(JSON.stringify({ ...signed, site: 'x'.repeat(4 * 1024 * 1024 + 1) })), 8 << 20, 'too_large'],
    ['no site text', Buffer.from(JSON.stringify({ ...signed, site: undefined })), 1 << 20, 'malformed'],
  ];
  it.each(rows)('refuses %s', (_name, payload, max, reason) => {
    expect(refusal(() => parseCandidate(payload, max))).toBe(reason);
  });

  it('refuses to sign with a key that is not Ed25519', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => signConfig('1', SITE, rsa)).toThrow(/not Ed25519/);
  });
});

describe('compareVersions', () => {
  const ordered = ['1', '2', '9', '10', '10.1', '10.2', '10.10', '2026.11.30', '2026.11.30-1', '2026.11.30-2', '2026.12.01'];
  it('orders digit runs as numbers and prefixes first', () => {
    for (let i = 0; i < ordered.length - 1; i++) {
      expect(compareVersions(ordered[i]!, ordered[i + 1]!), `${ordered[i]} < ${ordered[i + 1]}`).toBeLessThan(0);
      expect(compareVersions(ordered[i + 1]!, ordered[i]!)).toBeGreaterThan(0);
    }
    expect(compareVersions('007', '7')).toBe(0);
    expect(compareVersions('v1.9', 'v1.10')).toBeLessThan(0);
  });
});
