// The resolved site: every defaulted key present and converted, so nothing after loading parses a
// duration, supplies a default or reads a TLS file again.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateSiteText } from '../../src/config/validate-site.js';
import { bufferForPath } from '../../src/config/resolved-site.js';
import { drivers } from '../../drivers/index.js';
import { lines } from './site-fixtures.js';
import { tempDirs } from '../support/temp-dirs.js';

describe('resolveSite', () => {
  const tempDir = tempDirs('fg-resolved-', 'each');

  it('converts durations, sizes and paths, renders names, reads TLS material and applies driver defaults', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'ca.pem'), 'CA BYTES');
    const file = path.join(dir, 'site.yaml');
    const site = validateSiteText(lines(
      'site: plant-7',
      'gateway: gw-01',
      'mqtt:',
      '  url: mqtts://broker:8883',
      '  keepalive: 45s',
      '  tls: { ca: ca.pem }',
      'buffer:',
      '  path: data/j.db',
      '  max_bytes: 1MiB',
      '  pack: true',
      '  keep_delivered: 7d',
      '  commit_interval: 1.5s',
      '  sync_interval: 2s',
      '  memory_fallback: 4MiB',
      'http: { listen: "127.0.0.1:9464", unhealthy_after: 2m }',
      'devices:',
      '  - name: s',
      '    driver: sim',
      '    interval: 250ms',
      '    points: [{ name: t, signal: sine }]',
    ), file, {}, drivers);
    expect(site.mqtt).toMatchObject({
      urls: ['mqtts://broker:8883'], clientId: 'fieldgate-plant-7-gw-01', statusTopic: 'plant-7/gw-01/status',
      keepaliveMs: 45_000, connectTimeoutMs: 10_000, refusedRetryMs: 1_000, protocolVersion: 4, qos: 1,
    });
    expect(site.mqtt.tls?.ca?.toString()).toBe('CA BYTES');
    expect(site.buffer).toEqual({
      path: path.join(dir, 'data/j.db'), maxMessages: 1_000_000, maxBytes: 1024 * 1024, whenFull: 'drop_oldest',
      synchronous: 'normal', syncIntervalMs: 2_000, commitIntervalMs: 1_500, memoryFallbackBytes: 4 * 1024 * 1024, inflight: 100, replayRate: 0, pack: { maxRows: 100, maxBytes: 64 * 1024 },
      keepDeliveredMs: 7 * 86_400_000,
    });
    expect(site.http).toMatchObject({ listen: '127.0.0.1:9464', address: { host: '127.0.0.1', port: 9464 }, unhealthyAfterMs: 120_000 });
    expect(site.mapping).toEqual({ site: 'plant-7', gateway: 'gw-01', topic: '{site}/{device}/{point}', payload: 'json', encoding: 'json', qos: 1 });
    expect(site.devices[0]).toMatchObject({ interval: '250ms', intervalMs: 250 });
    expect(site.devices[0]!.points[0]).toMatchObject({ amplitude: 10, period: '60s', qos: 1, retain: false });
  });

  it('gives a bare journal path (buffer commands with --path) the site defaults', () => {
    expect(bufferForPath('x.db')).toMatchObject({
      path: path.resolve('x.db'), maxMessages: 1_000_000, maxBytes: 256 * 1024 * 1024, whenFull: 'drop_oldest', keepDeliveredMs: 0,
      commitIntervalMs: 0, syncIntervalMs: 1_000, memoryFallbackBytes: 16 * 1024 * 1024,
    });
  });
});
