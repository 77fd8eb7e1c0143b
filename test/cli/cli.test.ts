import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/run-cli.js';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { pino } from 'pino';
import { tempDirs } from '../support/temp-dirs.js';

const tempDir = tempDirs('fieldgate-cli-');

const GOOD = `site: plant
gateway: gw
mqtt: { url: "mqtt://127.0.0.1:1883" }
buffer: { path: buffer.db }
devices:
  - name: boiler
    driver: sim
    interval: 1s
    points:
      - { name: n, signal: counter }
      - { name: t, signal: constant, value: 20, unit: C, scale: 2, offset: 1 }
`;

describe('fieldgate CLI', () => {
  it('validate: exit 0 with a summary for a good file', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'site.yaml'), GOOD);
    const r = await cli(['validate', '-c', path.join(dir, 'site.yaml')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/valid/);
    expect(r.out).toMatch(/boiler/);
  });

  it('validate and run: every error as file:line:col, exit 1, run refuses to start', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, `site: plant
mqtt: { url: "mqtt://127.0.0.1:1883", qoss: 1 }
devices:
  - name: boiler
    driver: sim
    interval: 5 seconds
    points:
      - { name: n, signal: counter }
      - { name: n, signal: counter }
`);
    const v = await cli(['validate', '-c', file]);
    expect(v.code).toBe(1);
    const lines = v.err.split('\n').filter((l) => l.startsWith(file));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(v.err).toContain(`${file}:2:`);
    expect(v.err).toContain(`${file}:6:`);
    expect(v.err).toContain(`${file}:9:`);
    const r = await cli(['run', '-c', file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/refusing to start/);
    expect(fs.existsSync(path.join(dir, 'buffer.db'))).toBe(false);
  });

  it('read: polls once and prints topic and scaled payload without journaling', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'site.yaml');
    fs.writeFileSync(file, GOOD);
    const r = await cli(['read', '-c', file, '--log-level', 'silent']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^plant\/boiler\/n \{"value":0,/m);
    expect(r.out).toMatch(/^plant\/boiler\/t \{"value":41,.*"unit":"C"\}$/m);
    expect(fs.existsSync(path.join(dir, 'buffer.db'))).toBe(false);
  });

  it('read honours payload_encoding: cbor and shows it decoded', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'site.yaml');
    fs.writeFileSync(file, GOOD.replace('buffer: { path: buffer.db }', 'buffer: { path: buffer.db }\npayload_encoding: cbor'));
    const r = await cli(['read', '-c', file, '--log-level', 'silent']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^plant\/boiler\/t \(cbor, \d+ bytes\) \{.*"value":41/m);
  });

  it('plan prints each device', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'site.yaml');
    fs.writeFileSync(file, GOOD);
    const r = await cli(['plan', '-c', file]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/device boiler \(sim, every 1s\)/);
  });

  it('buffer stats, export and purge work on the journal the site file names', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'site.yaml');
    fs.writeFileSync(file, GOOD);
    const journal = new SqliteJournal({
      path: path.join(dir, 'buffer.db'), maxMessages: 1000, maxBytes: 1e8, whenFull: 'drop_oldest', synchronous: 'normal',
      logger: pino({ level: 'silent' }), clock: { now: () => Date.now() },
    });
    journal.open();
    const t0 = Date.parse('2026-11-26T06:00:00Z');
    journal.append([0, 1, 2].map((i) => ({
      ts: t0 + i * 3_600_000, topic: `plant/boiler/n`, qos: 1 as const, retain: false, encoding: 'json' as const,
      render: (seq: number) => Buffer.from(`{"value":${i},"seq":${seq}}`),
    })));
    journal.close();

    const stats = await cli(['buffer', 'stats', '-c', file]);
    expect(stats.code).toBe(0);
    expect(stats.out).toMatch(/backlog:\s+3 messages/);
    expect(stats.out).toMatch(/last seq:\s+3/);

    const exp = await cli(['buffer', 'export', '-c', file, '--since', '2026-11-26T06:30:00Z', '--until', '2026-11-26T08:30:00Z']);
    expect(exp.code).toBe(0);
    const rows = exp.out.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; payload: string; ts: string });
    expect(rows.map((r) => r.seq)).toEqual([2, 3]);
    expect(rows[0]!.payload).toBe('{"value":1,"seq":2}');
    expect(rows[0]!.ts).toBe('2026-11-26T07:00:00.000Z');

    const refused = await cli(['buffer', 'purge', '-c', file]);
    expect(refused.code).toBe(1);
    const purge = await cli(['buffer', 'purge', '-c', file, '--yes']);
    expect(purge.code).toBe(0);
    expect(purge.out).toMatch(/purged 3/);
    const after = await cli(['buffer', 'stats', '--path', path.join(dir, 'buffer.db')]);
    expect(after.out).toMatch(/backlog:\s+0 messages/);
    expect(after.out).toMatch(/purge=3/);
  });

  it('usage errors exit 64; --version prints the version', async () => {
    expect((await cli(['frobnicate'])).code).toBe(64);
    expect((await cli([])).code).toBe(64);
    const v = await cli(['--version']);
    expect(v.code).toBe(0);
    expect(v.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('ha preview prints every discovery message; validate and preview warn about CBOR devices; read shows computed points', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'site.yaml');
    fs.writeFileSync(file, GOOD.replace('buffer: { path: buffer.db }', 'buffer: { path: buffer.db }\nhomeassistant: { enabled: true }') +
      '      - { name: t2, expr: "t * 2", unit: C }\n  - name: packed\n    driver: sim\n    payload_encoding: cbor\n    points: [ { name: x, signal: counter } ]\n');
    const preview = await cli(['ha', 'preview', '-c', file]);
    expect(preview.code).toBe(0);
    const topics = preview.out.split('\n').filter((l) => l.startsWith('homeassistant/'));
    expect(topics).toEqual(['homeassistant/device/fieldgate_plant_gw/config', 'homeassistant/device/fieldgate_plant_gw_boiler/config']);
    expect(preview.out).toContain('"dev_cla": "temperature"');
    expect(preview.err).toContain("warning: device 'packed' is left out of Home Assistant discovery");
    const v = await cli(['validate', '-c', file]);
    expect(v.code).toBe(0);
    expect(v.out).toContain("warning: device 'packed' is left out of Home Assistant discovery: its payloads are CBOR");
    const read = await cli(['read', '-c', file]);
    // t = 20 × 2 + 1 = 41; t2 = 82.
    expect(read.out).toContain('plant/boiler/t2 {"value":82,');
    expect((await cli(['ha', 'nothing', '-c', file])).code).toBe(64);
  });

  it('schema prints the JSON Schema', async () => {
    const r = await cli(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.out) as { properties: Record<string, unknown> };
    expect(schema.properties).toHaveProperty('devices');
  });
});

describe('fieldgate demo', () => {
  it('shows sim and Modbus meter readings within seconds, with no other software', async () => {
    const r = await cli(['demo', '--duration', '3s', '--log-level', 'silent']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/in-process MQTT broker at mqtt:\/\/127\.0\.0\.1:\d+/);
    expect(r.out).toMatch(/demo\/demo-gw\/status {2}online/);
    expect(r.out).toMatch(/demo\/boiler\/counter {2}\{"value":\d+,"ts":"[^"]+","seq":\d+\}/);
    expect(r.out).toMatch(/demo\/meter-1\/voltage_l1 {2}\{"value":2\d\d(\.\d+)?,.*"unit":"V"\}/);
    expect(r.out).toMatch(/demo\/meter-1\/model {2}\{"value":"FG-EM340"/);
    // Two meters from the shipped sdm630 profile (fan-out over unit ids 1 and 2) on the profile simulator.
    expect(r.out).toMatch(/demo\/sdm-2\/meta {2}\{.*"device":"sdm-2","profile":\{"name":"sdm630","version":"1\.0"\}/);
    expect(r.out).toMatch(/demo\/sdm-1 {2}\{.*"values":\{.*"voltage_l1":2\d\d/);
  }, 30_000);
});
