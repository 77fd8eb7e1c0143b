// A status snapshot with hostile strings where a device or a site file could put them.
import type { StatusSnapshot } from '../../src/service/status-snapshot.js';

export const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

export function fixtureSnapshot(): StatusSnapshot {
  const now = new Date().toISOString();
  return {
    site: 'plant-7',
    gateway: 'gw-01',
    version: '0.0.0-test',
    started: now,
    uptime_s: 3600,
    config: { file: '/etc/fieldgate/config.yaml', version: 'abcdef012345', loaded: now },
    uplink: { connected: true, broker: 'mqtts://broker.example.com:8883', since: now, reconnects: 2 },
    backlog: { available: true, storage: 'file', journal: '00e7dd19007f', depth: 12, bytes: 2048, oldest_age_s: 4, drops: { drop_oldest: 0, drop_newest: 0, purge: 0 }, delivered_per_s: 10 },
    devices: [{
      name: HOSTILE,
      driver: 'serial',
      healthy: false,
      last_error: HOSTILE,
      last_error_at: now,
      polls: 10,
      errors: { [HOSTILE]: 1 },
      plan: HOSTILE,
      points: [{ name: HOSTILE, topic: HOSTILE, value: HOSTILE, unit: HOSTILE, quality: 'good', ts: now }],
    }],
  };
}
