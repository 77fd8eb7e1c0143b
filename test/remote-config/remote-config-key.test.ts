// The remote_config block through the same validator as `fieldgate validate`: its defaults, and the
// mistakes that would otherwise surface only when the first candidate arrives.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { validateSiteText } from '../../src/config/validate-site.js';
import { generateSigningKeys } from '../../src/remote-config/signed-config.js';
import { drivers } from '../../drivers/index.js';
import { BASE } from '../config/site-fixtures.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-remote-key-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.writeFileSync(path.join(dir, 'signing.pub'), generateSigningKeys().publicKey);
fs.writeFileSync(path.join(dir, 'rsa.pub'), generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }));
fs.writeFileSync(path.join(dir, 'garbage.pub'), 'hello');
const file = path.join(dir, 'site.yaml');
const env = { STATE_DIRECTORY: dir };

function errors(block: string): string[] {
  try {
    validateSiteText(BASE + block, file, env, drivers);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.line}:${i.col}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('remote_config', () => {
  it('is off unless written, and resolves its defaults when it is', () => {
    expect(validateSiteText(BASE, file, env, drivers).remoteConfig).toBeUndefined();
    const site = validateSiteText(`${BASE}remote_config: { public_key: signing.pub }\n`, file, env, drivers);
    expect(site.remoteConfig).toMatchObject({
      topic: 'plant-7/gw-01/config', statusTopic: 'plant-7/gw-01/config/status',
      publicKeyFile: path.join(dir, 'signing.pub'), trialMs: 120_000, maxBytes: 1024 * 1024,
    });
    expect(site.remoteConfig!.publicKey).toContain('BEGIN PUBLIC KEY');
  });

  it('reports a missing, a non-Ed25519 and an unreadable key, a bad topic and a short trial, with positions', () => {
    expect(errors('remote_config: { public_key: nope.pub }\n')[0]).toMatch(/^11:30: remote_config.public_key: file ".*nope.pub" does not exist/);
    expect(errors('remote_config: { public_key: rsa.pub }\n')[0]).toMatch(/is a rsa key; an Ed25519 public key is needed/);
    expect(errors('remote_config: { public_key: garbage.pub }\n')[0]).toMatch(/is not a PEM public key/);
    expect(errors('remote_config: { public_key: signing.pub, topic: "{site}/{device}/config" }\n')[0]).toMatch(/unknown template variable \{device\}/);
    expect(errors('remote_config: { public_key: signing.pub, topic: "{site}/+/config" }\n')[0]).toMatch(/wildcard/);
    expect(errors('remote_config: { public_key: signing.pub, trial: 100ms }\n')).toHaveLength(1);
    expect(errors('remote_config: { topic: a/b }\n')[0]).toMatch(/public_key/);
  });
});
