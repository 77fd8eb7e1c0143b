// `fieldgate config …` in-process: keys and a signed message an agent accepts, and history, diff
// and rollback on a store left by a gateway.
import fs from 'node:fs';
import { cli as runCapturedCli } from '../support/run-cli.js';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCandidate, verifySignature } from '../../src/remote-config/signed-config.js';
import { VersionStore } from '../../src/remote-config/version-store.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-config-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]) => runCapturedCli(args, { STATE_DIRECTORY: dir });

describe('fieldgate config', () => {
  const priv = path.join(dir, 'signing.key');
  const pub = path.join(dir, 'signing.pub');

  it('keygen writes a PEM pair (private 0600) and never overwrites one', async () => {
    expect((await cli(['config', 'keygen', '--private', priv, '--public', pub])).code).toBe(0);
    expect(fs.readFileSync(priv, 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(fs.statSync(priv).mode & 0o777).toBe(0o600);
    const again = await cli(['config', 'keygen', '--private', priv, '--public', pub]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/exists; keys are never overwritten/);
  });

  it('sign prints a message that verifies with the public key', async () => {
    const site = path.join(dir, 'site.yaml');
    fs.writeFileSync(site, 'site: x\n');
    const r = await cli(['config', 'sign', '--key', priv, '--version', '2026.11.30-1', site]);
    expect(r.code).toBe(0);
    const c = parseCandidate(Buffer.from(r.out.trim()), 1 << 20);
    expect(c).toMatchObject({ version: '2026.11.30-1', site: 'site: x\n' });
    expect(verifySignature(c, fs.readFileSync(pub, 'utf8'))).toBe(true);
    expect((await cli(['config', 'sign', '--key', pub, '--version', '1', site])).err).toMatch(/not a PEM private key/);
    expect((await cli(['config', 'sign', '--key', priv, '--version', 'a/b', site])).err).toMatch(/version "a\/b" is not/);
    expect((await cli(['config', 'sign', '--key', priv, site])).code).toBe(64);
  });

  it('history, diff and rollback work on the store', async () => {
    const store = VersionStore.open(path.join(dir, 'config'), { now: () => Date.parse('2026-11-30T10:00:00Z') });
    store.record({ version: 'local-1', source: 'local', state: 'applied', text: 'a: 1\nb: 2\n' });
    const v2 = store.record({ version: '2', source: 'remote', state: 'trial', text: 'a: 1\nb: 3\n', trialMs: 1000 });
    store.rollBack(v2.id, 1, 'devices dev read no good value within 2m');
    const history = await cli(['config', 'history']);
    expect(history.out.split('\n').filter(Boolean)).toEqual([
      '2026-11-30T10:00:00.000Z  local-1              local  applied     [active, last good]',
      '2026-11-30T10:00:00.000Z  2                    remote rolled_back  devices dev read no good value within 2m',
    ]);
    expect((await cli(['config', 'diff', 'local-1', '2'])).out).toBe('--- local-1\n+++ 2\n@@ line 1 @@\n a: 1\n-b: 2\n+b: 3\n \n');
    const rollback = await cli(['config', 'rollback', '2']);
    expect(rollback.out).toMatch(/version 2 is now the active one; apply it with: systemctl reload fieldgate/);
    expect(VersionStore.open(path.join(dir, 'config'), { now: () => 0 }).active?.version).toBe('2');
    expect((await cli(['config', 'rollback', '9'])).err).toMatch(/no stored version "9"/);
    const during = VersionStore.open(path.join(dir, 'config'), { now: () => Date.parse('2026-11-30T10:00:00Z') });
    during.record({ version: '3', source: 'remote', state: 'trial', text: 'a: 4\n', trialMs: 60_000 });
    const refused = await cli(['config', 'rollback', 'local-1']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/version 3 is on trial until 2026-11-30T10:01:00.000Z; wait for its outcome/);
  });

  it('diff shows the secrets of either version as ***, and still shows that they changed', async () => {
    const store = VersionStore.open(path.join(dir, 'config'), { now: () => Date.parse('2026-11-30T11:00:00Z') });
    const site = (password: string, url: string, psk: string) => [
      'mqtt:', `  url: ${url}`, '  username: plant', `  password: ${password}`,
      'devices:', '  - name: hall', '    driver: ble', `    ble: { address: "AA:BB:CC:DD:EE:FF", bindkey: "${psk}" }`, '',
    ].join('\n');
    store.record({ version: 's-1', source: 'local', state: 'applied', text: site('s3cret-old', 'mqtts://plant:urlpass-old@broker:8883', 'bk-old-123') });
    store.record({ version: 's-2', source: 'local', state: 'applied', text: site('s3cret-new', 'mqtts://plant:urlpass-new@broker:8883', 'bk-new-456') });
    const out = (await cli(['config', 'diff', 's-1', 's-2'])).out;
    for (const secret of ['s3cret-old', 's3cret-new', 'urlpass-old', 'urlpass-new', 'bk-old-123', 'bk-new-456']) expect(out).not.toContain(secret);
    expect(out).toContain('-  password: ***\n+  password: ***');
    expect(out).toContain('mqtts://plant:***@broker:8883');
    expect(out).toContain('username: plant');
  });
});
