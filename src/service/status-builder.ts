// Builds /api/status from the parts of a running gateway. Kept out of gateway.ts: the gateway
// composes, this describes.
import { createHash } from 'node:crypto';
import type { DeviceConfigBase } from '../driver-api/index.js';
import type { JournalStats } from '../journal/journal.js';
import type { SiteConfig } from '../config/site-config.js';
import { pointTopic, type MappingDefaults } from '../mapping/reading-mapper.js';
import type { DeviceStatusRecorder } from '../scheduler/device-status.js';
import { redactUrl } from '../uplink/redact-url.js';
import type { DeviceStatus, StatusSnapshot } from './status-snapshot.js';

export interface StatusInput {
  config: SiteConfig;
  file: string;
  version: string;
  now: number;
  startedAt: number;
  loadedAt: number;
  defaults: MappingDefaults;
  uplink: { connected: boolean; url: string | undefined; since: number; reconnects: number };
  journal: JournalStats | undefined;
  deliveredPerSecond: number;
  devices: readonly { config: DeviceConfigBase; healthy: boolean; status: DeviceStatusRecorder; plan: string | undefined }[];
}

const iso = (t: number): string => new Date(t).toISOString();

export function buildStatus(i: StatusInput): StatusSnapshot {
  const cfg = i.config;
  const j = i.journal;
  return {
    site: cfg.site,
    gateway: cfg.gateway ?? '',
    version: i.version,
    started: iso(i.startedAt),
    uptime_s: Math.max(0, Math.round((i.now - i.startedAt) / 1000)),
    config: { file: i.file, version: configVersion(cfg), loaded: iso(i.loadedAt) },
    uplink: {
      connected: i.uplink.connected,
      broker: redactUrl(i.uplink.url ?? cfg.mqtt.urls?.[0] ?? cfg.mqtt.url ?? ''),
      since: iso(i.uplink.since),
      reconnects: i.uplink.reconnects,
    },
    backlog: {
      available: j?.available ?? false,
      storage: j?.storage ?? 'file',
      journal: j?.journalId ?? '',
      depth: j?.depth ?? 0,
      bytes: j?.bytes ?? 0,
      oldest_age_s: j?.oldestTs == null ? null : Math.max(0, Math.round((i.now - j.oldestTs) / 1000)),
      drops: { ...(j?.drops ?? {}) },
      delivered_per_s: Math.round(i.deliveredPerSecond * 10) / 10,
    },
    devices: i.devices.map((d) => deviceStatus(d, i.defaults)),
  };
}

/** A short fingerprint of the configuration in force (sha256 of its resolved form). */
export function configVersion(cfg: SiteConfig): string {
  return createHash('sha256').update(JSON.stringify(cfg)).digest('hex').slice(0, 12);
}

function deviceStatus(d: StatusInput['devices'][number], defaults: MappingDefaults): DeviceStatus {
  const s = d.status;
  return {
    name: d.config.name,
    driver: d.config.driver,
    healthy: d.healthy,
    last_error: s.lastError?.text ?? null,
    last_error_at: s.lastError ? iso(s.lastError.at) : null,
    polls: s.polls,
    errors: { ...s.errors },
    plan: d.plan ?? null,
    points: d.config.points.map((p) => {
      const last = s.lastOf(p.name);
      return {
        name: p.name,
        topic: pointTopic(defaults, d.config, p),
        value: typeof last?.value === 'bigint' ? last.value.toString() : (last?.value ?? null),
        ...(p.unit === undefined ? {} : { unit: p.unit }),
        quality: last?.quality ?? null,
        ...(last?.error === undefined ? {} : { error: last.error }),
        ts: last ? iso(last.ts) : null,
      };
    }),
  };
}
