// Which site file a gateway starts from with remote configuration on, and what a crash loop on a
// version under trial leads to. Real files and the real validator; the agent's host is a fake
// (it records what would be applied).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { drivers } from '../../drivers/index.js';
import type { ResolvedSite } from '../../src/config/resolved-site.js';
import { RemoteConfigAgent } from '../../src/remote-config/remote-config-agent.js';
import { generateSigningKeys } from '../../src/remote-config/signed-config.js';
import { MAX_TRIAL_STARTS, SiteVersions } from '../../src/remote-config/site-versions.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-site-versions-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.writeFileSync(path.join(dir, 'signing.pub'), generateSigningKeys().publicKey);
const localFile = path.join(dir, 'config.yaml');
const siteText = (interval: string) => `site: s
gateway: g
mqtt: { url: "mqtt://127.0.0.1:1" }
buffer: { path: buffer.db }
remote_config: { public_key: signing.pub, trial: 5s }
devices:
  - { name: d, driver: sim, interval: ${interval}, points: [{ name: t, signal: sine }] }
`;
const clock = { now: () => Date.now() };
const versionsFor = () => new SiteVersions({ localFile, env: { STATE_DIRECTORY: dir }, drivers, clock });
const intervalOf = (site: ResolvedSite) => site.devices[0]!.interval;

describe('SiteVersions', () => {
  it('starts from the local file the first time and records it; then from the active version until the local file changes', () => {
    fs.writeFileSync(localFile, siteText('1s'));
    const first = versionsFor().start();
    expect(first.entry).toMatchObject({ version: 'local-1', source: 'local' });
    expect(intervalOf(first.site)).toBe('1s');
    expect(fs.existsSync(path.join(dir, 'config', 'state.json'))).toBe(true);

    // A remote version under trial, as the agent records it; then the process dies.
    const v = versionsFor();
    v.start();
    v.store!.record({ version: '7', source: 'remote', state: 'trial', text: siteText('2s'), trialMs: 5000, required: ['d'] });
    const again = versionsFor().start();
    expect(again.entry?.version).toBe('7');
    expect(intervalOf(again.site)).toBe('2s');
    expect(again.site.file).toBe(localFile);
    expect(again.trial).toMatchObject({ starts: 2, required: ['d'] });

    // An operator edits the local file: it wins, recorded as its own version, and the trial is over.
    fs.writeFileSync(localFile, siteText('3s'));
    const edited = versionsFor().start();
    expect(edited.entry).toMatchObject({ version: 'local-3', source: 'local' });
    expect(intervalOf(edited.site)).toBe('3s');
    expect(edited.trial).toBeUndefined();
  });

  it(`a version that keeps the gateway restarting during its trial (more than ${MAX_TRIAL_STARTS} starts) is rolled back at start`, async () => {
    const v0 = versionsFor();
    v0.start();
    v0.store!.record({ version: '8', source: 'remote', state: 'trial', text: siteText('4s'), trialMs: 5000, required: [] });
    // Recorded as the first start; each restart counts one more.
    let versions = versionsFor();
    let choice = versions.start();
    for (let i = 1; i < MAX_TRIAL_STARTS; i++) {
      versions = versionsFor();
      choice = versions.start();
    }
    expect(choice.trial?.starts).toBe(MAX_TRIAL_STARTS + 1);
    const applied: string[] = [];
    let site = choice.site;
    const agent = new RemoteConfigAgent({
      versions,
      host: {
        isConnected: true,
        get resolvedSite() { return site; },
        devicesObserved: () => [],
        apply: async (next) => {
          site = next;
          applied.push(intervalOf(next));
        },
        serialize: (task) => task(),
        versionChanged: () => undefined,
      },
      logger: pino({ level: 'silent' }),
      clock,
      learnSecrets: () => undefined,
    });
    agent.start(choice.entry, choice.trial);
    await new Promise((r) => setImmediate(r));
    expect(applied).toEqual(['3s']);
    expect(agent.lastReport).toMatchObject({ state: 'rolled_back', version: '8', active: 'local-3', reason: `the gateway started ${MAX_TRIAL_STARTS + 1} times during the trial` });
    expect(versionsFor().start().entry?.version).toBe('local-3');
    agent.stop();
  });
});
