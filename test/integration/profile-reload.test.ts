// Profiles are linked, not copied: editing a profile file and reloading restarts exactly the
// devices built from it, through the normal reload path (no reconnect, journal untouched, no seq
// lost), and their readings follow the new profile.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, registerBrokerCleanup, startMosquitto } from './harness/index.js';
import { startTestGateway } from './harness/test-gateway.js';
import { assertContiguous, seqsOf } from './site-yaml.js';
import { loadSite } from '../../src/config/load-site.js';
import { drivers } from '../../drivers/index.js';

registerBrokerCleanup();

const PROBE = (unit: string) => `version: "1"
driver: sim
interval: 20ms
points:
  - { name: level, signal: counter, unit: ${unit} }
`;

describe('reloading a changed profile', () => {
  it('restarts only the devices that use it, and they publish per the new profile', async () => {
    const broker = await startMosquitto();
    const sub = await collect(broker.url, 'it/#');
    const siteYaml = `site: it
gateway: gw
mqtt: { url: ${broker.url}, keepalive: 2s }
buffer: { path: buffer.db }
payload: batch
devices:
  - { name: tank-a, profile: probe }
  - { name: tank-b, profile: probe }
  - { name: other, driver: sim, interval: 20ms, points: [{ name: c, signal: counter }] }
`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-prof-'));
    fs.mkdirSync(path.join(dir, 'profiles'));
    fs.writeFileSync(path.join(dir, 'profiles', 'probe.yaml'), PROBE('cm'));
    const gw = await startTestGateway({ siteYaml, dir });
    try {
      await sub.waitFor((m) => m.some((x) => x.topic === 'it/tank-b/meta'), 10_000);
      const meta = (device: string) => sub.messages.filter((x) => x.topic === `it/${device}/meta`).map((x) => JSON.parse(x.payload.toString()));
      expect(meta('tank-a')[0]).toMatchObject({ device: 'tank-a', profile: { name: 'probe', version: '1' }, points: { level: { unit: 'cm' } } });

      fs.writeFileSync(path.join(dir, 'profiles', 'probe.yaml'), PROBE('mm'));
      const plan = await gw.gateway.reload(loadSite(gw.file, process.env, drivers));
      expect(plan).toMatchObject({ reconnect: false, restartHttp: false, stop: ['tank-a', 'tank-b'], start: ['tank-a', 'tank-b'] });

      await sub.waitFor((m) => m.filter((x) => x.topic === 'it/tank-b/meta').length >= 2, 10_000);
      expect(meta('tank-a').at(-1)).toMatchObject({ profile: { name: 'probe', version: '1' }, points: { level: { unit: 'mm' } } });
      expect(meta('other')).toHaveLength(1);
      expect(meta('other')[0]).not.toHaveProperty('profile');
      // tank-a keeps publishing after its restart.
      const polls = () => sub.messages.filter((x) => x.topic === 'it/tank-a').length;
      const atReload = polls();
      await sub.waitFor(() => polls() > atReload + 5, 10_000);
    } finally {
      await gw.stop({ keepDir: true });
      await sub.close();
      await broker.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // Every row journaled was delivered, across the reload.
    assertContiguous(seqsOf(sub.messages));
  }, 60_000);
});
