// validate, plan and read show devices as built from their profiles (fan-out included) and name
// the profile and its version each came from; read's /meta message carries them too.
import fs from 'node:fs';
import { cli } from '../support/run-cli.js';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../support/temp-dirs.js';

const tempDir = tempDirs('fieldgate-cli-prof-');


function site(): string {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'profiles'));
  fs.writeFileSync(path.join(dir, 'profiles', 'probe.yaml'), `version: "3.1"
driver: sim
interval: 2s
points:
  - { name: level, signal: constant, value: 7, unit: cm }
  - { name: count, signal: counter }
`);
  const file = path.join(dir, 'site.yaml');
  fs.writeFileSync(file, `site: plant
gateway: gw
mqtt: { url: "mqtt://127.0.0.1:1883" }
buffer: { path: buffer.db }
devices:
  - { name: tank, profile: probe, payload: batch, points_omit: [count] }
  - { name: plain, driver: sim, points: [{ name: n, signal: counter }] }
`);
  return file;
}

describe('profiles in the commissioning commands', () => {
  it('validate and plan name the profile and version of each device built from one', async () => {
    const file = site();
    const v = await cli(['validate', '-c', file]);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^\s+tank\s+sim\s+every 2s\s+1 point\s+\(profile probe, version 3\.1\)$/m);
    expect(v.out).toMatch(/^\s+plain\s+sim\s+every 1s\s+1 point$/m);
    const p = await cli(['plan', '-c', file]);
    expect(p.code).toBe(0);
    expect(p.out).toMatch(/^device tank \(sim, every 2s, profile probe, version 3\.1\)$/m);
    expect(p.out).toMatch(/^device plain \(sim, every 1s\)$/m);
  });

  it('read names the profile before the device readings, and its /meta carries it', async () => {
    const r = await cli(['read', '-c', site(), '--log-level', 'silent']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# tank: profile probe, version 3\.1$/m);
    const meta = r.out.split('\n').find((l) => l.startsWith('plant/tank/meta '))!;
    expect(JSON.parse(meta.slice('plant/tank/meta '.length))).toMatchObject({ device: 'tank', profile: { name: 'probe', version: '3.1' }, points: { level: { unit: 'cm' } } });
    expect(r.out).not.toMatch(/^# plain/m);
  });
});
