// The signed candidate: one JSON message carrying a whole site file, its version and an Ed25519
// signature over both. Pure: no I/O, no clock; the keys come in as PEM text.
//
//   {"format":"fieldgate-config/1","version":"2026.11.30-2","site":"<the YAML text>","signature":"<base64>"}
//
// The signature covers `fieldgate-config/1\n<version>\n<site>` (UTF-8). The format name is
// signed too, so a signature made for another purpose with the same key can never pass as a
// site file. Versions are restricted to characters that are safe in file names and logs.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { FieldgateError } from '../util/errors.js';
import { boundedText } from '../util/quote-value.js';
import { SITE_FILE_MAX_BYTES } from '../config/file-limits.js';

export const CONFIG_FORMAT = 'fieldgate-config/1';
export const VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$/;

export interface SignedConfig {
  version: string;
  /** The site file, as text. */
  site: string;
  signature: Buffer;
}

/** Why a candidate was refused before it was looked at as a site file. */
export type RefusalReason = 'too_large' | 'malformed' | 'bad_version' | 'unsigned' | 'bad_signature' | 'not_newer' | 'invalid' | 'disables_remote_config';

export class CandidateRefused extends FieldgateError {
  constructor(readonly reason: RefusalReason, message: string, readonly errors: readonly string[] = []) {
    super(`remote_config_${reason}`, message);
  }
}

export function signedBytes(version: string, site: string): Buffer {
  return Buffer.from(`${CONFIG_FORMAT}\n${version}\n${site}`, 'utf8');
}

/** The message to publish: the site text signed with the private key (PEM). */
export function signConfig(version: string, site: string, privateKeyPem: string): string {
  if (!VERSION_PATTERN.test(version)) throw new CandidateRefused('bad_version', versionProblem(version));
  const key = ed25519Key(createPrivateKey(privateKeyPem), 'private');
  const signature = sign(null, signedBytes(version, site), key);
  return JSON.stringify({ format: CONFIG_FORMAT, version, site, signature: signature.toString('base64') });
}

/**
 * Parses a candidate message; throws CandidateRefused (too_large, malformed, bad_version,
 * unsigned). The signature is not checked here: see verifySignature.
 */
export function parseCandidate(payload: Buffer, maxBytes: number): SignedConfig {
  if (payload.length > maxBytes) throw new CandidateRefused('too_large', `the message is ${payload.length} bytes; at most ${maxBytes} are accepted (remote_config.max_bytes)`);
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new CandidateRefused('malformed', 'the message is not JSON (make it with `fieldgate config sign`)');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CandidateRefused('malformed', 'the message is not a JSON object');
  const m = value as Record<string, unknown>;
  if (m.format !== CONFIG_FORMAT) throw new CandidateRefused('malformed', `the message's format is not "${CONFIG_FORMAT}"`);
  if (typeof m.version !== 'string' || !VERSION_PATTERN.test(m.version)) {
    throw new CandidateRefused('bad_version', versionProblem(typeof m.version === 'string' ? m.version : String(m.version)));
  }
  if (typeof m.site !== 'string') throw new CandidateRefused('malformed', 'the message has no "site" text');
  if (Buffer.byteLength(m.site) > SITE_FILE_MAX_BYTES) {
    throw new CandidateRefused('too_large', `the site file is ${Buffer.byteLength(m.site)} bytes; a site file may have at most ${SITE_FILE_MAX_BYTES}`);
  }
  if (m.signature === undefined || m.signature === '') throw new CandidateRefused('unsigned', 'the message carries no signature');
  if (typeof m.signature !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(m.signature)) {
    throw new CandidateRefused('bad_signature', 'the signature is not base64');
  }
  return { version: m.version, site: m.site, signature: Buffer.from(m.signature, 'base64') };
}

/** True when the candidate was signed by the holder of the private key matching `publicKeyPem`. */
export function verifySignature(candidate: SignedConfig, publicKeyPem: string): boolean {
  const key = ed25519Key(createPublicKey(publicKeyPem), 'public');
  // An Ed25519 signature is 64 bytes; anything else cannot verify (and some runtimes throw).
  if (candidate.signature.length !== 64) return false;
  return verify(null, signedBytes(candidate.version, candidate.site), key, candidate.signature);
}

/** A new key pair, both PEM (private: PKCS#8, public: SPKI). */
export function generateSigningKeys(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKey, publicKey };
}

/**
 * Orders versions the way people number them: runs of digits compare as numbers, other runs as
 * text, and a version that is a prefix of another is older ("9" < "10", "1.9" < "1.10",
 * "2026.11.30" < "2026.11.30-1"). Negative when a is older.
 */
export function compareVersions(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    const numeric = /^\d/.test(x) && /^\d/.test(y);
    const c = numeric ? compareDigits(x, y) : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

function compareDigits(x: string, y: string): number {
  const a = x.replace(/^0+(?=\d)/, '');
  const b = y.replace(/^0+(?=\d)/, '');
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function versionProblem(version: string): string {
  return `version ${JSON.stringify(boundedText(version))} is not 1 to 64 letters, digits, '.', '_', '+' or '-' starting with a letter or digit`;
}

function ed25519Key(key: KeyObject, kind: 'public' | 'private'): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new FieldgateError('remote_config_key', `the ${kind} key is ${key.asymmetricKeyType ?? 'not asymmetric'}, not Ed25519`);
  }
  return key;
}
