// Every default of the site file, in one place. The JSON Schema shows them to editors
// (site-schema.ts), docs/configuration.md lists them, and applyDefaults() fills them in.
import fs from 'node:fs';
import path from 'node:path';
import { compileTemplate } from '../mapping/template.js';
import { driverView, isComputed } from '../mapping/driver-view.js';
import type { DeviceConfigBase, DriverDescriptor, PointConfigBase } from '../driver-api/index.js';
import type { BufferConfig, MqttConfig, PayloadEncoding, PayloadFormat, SiteConfig } from './site-config.js';

export const SITE_DEFAULTS = {
  mqtt: {
    client_id: 'fieldgate-{site}-{gateway}',
    protocol_version: 4,
    qos: 1,
    keepalive: '30s',
    connect_timeout: '10s',
    status_topic: '{site}/{gateway}/status',
    refused_retry: '1s',
  },
  buffer: {
    /** File name inside $STATE_DIRECTORY; without it, `fallback_path` relative to the site file. */
    file_name: 'buffer.db',
    fallback_path: 'data/buffer.db',
    max_messages: 1_000_000,
    max_bytes: '256MiB',
    when_full: 'drop_oldest',
    inflight: 100,
    replay_rate: 0,
    synchronous: 'normal',
    sync_interval: '1s',
    commit_interval: '0s',
    memory_fallback: '16MiB',
    pack: false,
    max_pack: 100,
    max_pack_bytes: '64KiB',
  },
  http: { unhealthy_after: '60s' },
  homeassistant: { enabled: false, prefix: 'homeassistant' },
  remote_config: { topic: '{site}/{gateway}/config', trial: '2m', max_bytes: '1MiB' },
  topic: '{site}/{device}/{point}',
  payload: 'json',
  payload_encoding: 'json',
  /** Topic of a `payload: batch` device that sets no `topic` of its own. */
  batch_topic: '{site}/{device}',
  device: { interval: '1s' },
  point: { retain: false },
} as const;

export interface DefaultsContext {
  /** Directory of the site file; relative paths resolve against it. */
  dir: string;
  env: NodeJS.ProcessEnv;
  hostname: string;
  /** Contents of mqtt.password_file, already read and trimmed. */
  passwordFromFile?: string;
  /** Contents of http.token_file, already read and trimmed. */
  tokenFromFile?: string;
  /** The drivers, whose own defaults are applied to their devices. */
  drivers?: readonly DriverDescriptor[];
}

/** Where the buffer lives when `buffer.path` is not given. */
/** StateDirectory=fieldgate of the systemd unit. */
export const SERVICE_STATE_DIR = '/var/lib/fieldgate';

export function defaultBufferPath(ctx: Pick<DefaultsContext, 'dir' | 'env'>): string {
  // systemd may list several directories (StateDirectory=a b → "…/a:…/b"); the first is ours.
  const stateDir = ctx.env.STATE_DIRECTORY?.split(':')[0];
  if (stateDir) return path.join(stateDir, SITE_DEFAULTS.buffer.file_name);
  // An operator running `fieldgate buffer stats` from a shell has no $STATE_DIRECTORY; where the
  // install script created the service's state directory, that is where the buffer lives.
  if (fs.existsSync(SERVICE_STATE_DIR)) return path.join(SERVICE_STATE_DIR, SITE_DEFAULTS.buffer.file_name);
  return path.resolve(ctx.dir, SITE_DEFAULTS.buffer.fallback_path);
}

/**
 * Returns a new, fully defaulted config. Input must already have passed validation.
 * client_id and status_topic are rendered here because they only depend on site and gateway;
 * rendering them again later is harmless (no `{name}` is left in them).
 */
export function applyDefaults(input: SiteConfig, ctx: DefaultsContext): SiteConfig {
  const raw = structuredClone(input);
  const site = raw.site;
  const gateway = raw.gateway ?? ctx.hostname;
  const names = { site, gateway };
  const resolvePath = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : path.resolve(ctx.dir, p);

  const mqtt: MqttConfig = {
    ...raw.mqtt,
    client_id: compileTemplate(raw.mqtt.client_id ?? SITE_DEFAULTS.mqtt.client_id).render(names),
    protocol_version: raw.mqtt.protocol_version ?? SITE_DEFAULTS.mqtt.protocol_version,
    qos: raw.mqtt.qos ?? SITE_DEFAULTS.mqtt.qos,
    keepalive: raw.mqtt.keepalive ?? SITE_DEFAULTS.mqtt.keepalive,
    connect_timeout: raw.mqtt.connect_timeout ?? SITE_DEFAULTS.mqtt.connect_timeout,
    refused_retry: raw.mqtt.refused_retry ?? SITE_DEFAULTS.mqtt.refused_retry,
  };
  mqtt.status_topic = compileTemplate(raw.mqtt.status_topic ?? SITE_DEFAULTS.mqtt.status_topic).render(names);
  if (raw.mqtt.password_file !== undefined) {
    mqtt.password_file = resolvePath(raw.mqtt.password_file);
    if (ctx.passwordFromFile !== undefined) mqtt.password = ctx.passwordFromFile;
  }
  if (raw.mqtt.tls) {
    mqtt.tls = { ...raw.mqtt.tls };
    for (const key of ['ca', 'cert', 'key'] as const) {
      if (raw.mqtt.tls[key] !== undefined) mqtt.tls[key] = resolvePath(raw.mqtt.tls[key]);
    }
  }

  const d = SITE_DEFAULTS.buffer;
  const rb = raw.buffer ?? {};
  const buffer: BufferConfig = {
    path: rb.path === undefined ? defaultBufferPath(ctx) : path.resolve(ctx.dir, rb.path),
    max_messages: rb.max_messages ?? d.max_messages,
    max_bytes: rb.max_bytes ?? d.max_bytes,
    when_full: rb.when_full ?? d.when_full,
    inflight: rb.inflight ?? d.inflight,
    replay_rate: rb.replay_rate ?? d.replay_rate,
    synchronous: rb.synchronous ?? d.synchronous,
    sync_interval: rb.sync_interval ?? d.sync_interval,
    commit_interval: rb.commit_interval ?? d.commit_interval,
    memory_fallback: rb.memory_fallback ?? d.memory_fallback,
    pack: rb.pack ?? d.pack,
    max_pack: rb.max_pack ?? d.max_pack,
    max_pack_bytes: rb.max_pack_bytes ?? d.max_pack_bytes,
    // Off unless set: no default to fill in.
    ...(rb.keep_delivered === undefined ? {} : { keep_delivered: rb.keep_delivered }),
  };

  const inherited: DeviceInheritance = {
    topic: raw.topic ?? SITE_DEFAULTS.topic,
    payload: raw.payload ?? SITE_DEFAULTS.payload,
    payload_encoding: raw.payload_encoding ?? SITE_DEFAULTS.payload_encoding,
    qos: mqtt.qos!,
  };
  const devices = raw.devices.map((device) => withDeviceDefaults(device, inherited, ctx.drivers?.find((d) => d.type === device.driver)));
  const { topic, payload, payload_encoding } = inherited;

  const config: SiteConfig = { ...raw, gateway, mqtt, buffer, topic, payload, payload_encoding, devices };
  if (raw.http) {
    config.http = { ...raw.http, unhealthy_after: raw.http.unhealthy_after ?? SITE_DEFAULTS.http.unhealthy_after };
    if (raw.http.token_file !== undefined) {
      config.http.token_file = resolvePath(raw.http.token_file);
      if (ctx.tokenFromFile !== undefined) config.http.token = ctx.tokenFromFile;
    }
  }
  config.homeassistant = {
    enabled: raw.homeassistant?.enabled ?? SITE_DEFAULTS.homeassistant.enabled,
    prefix: raw.homeassistant?.prefix ?? SITE_DEFAULTS.homeassistant.prefix,
  };
  if (raw.remote_config) {
    const r = SITE_DEFAULTS.remote_config;
    config.remote_config = {
      public_key: resolvePath(raw.remote_config.public_key)!,
      topic: compileTemplate(raw.remote_config.topic ?? r.topic).render(names),
      trial: raw.remote_config.trial ?? r.trial,
      max_bytes: raw.remote_config.max_bytes ?? r.max_bytes,
    };
  }
  return config;
}

/** What a device inherits from the top level of the site file. */
export interface DeviceInheritance {
  topic: string;
  payload: PayloadFormat;
  payload_encoding: PayloadEncoding;
  qos: 0 | 1 | 2;
}

/** A device with its own defaults and what it inherits filled in (drivers see this shape). */
export function withDeviceDefaults(device: DeviceConfigBase, inherited: DeviceInheritance, driver?: Pick<DriverDescriptor, 'withDefaults'>): DeviceConfigBase {
  const payload = device.payload ?? inherited.payload;
  // A batch device's `topic` names its one message per poll; its points keep the site template
  // (their topics carry commands: <point topic>/set).
  const batch = payload === 'batch';
  const topic = device.topic ?? (batch ? SITE_DEFAULTS.batch_topic : inherited.topic);
  const pointTopic = batch ? inherited.topic : topic;
  const resolved: DeviceConfigBase = {
    ...device,
    interval: device.interval ?? SITE_DEFAULTS.device.interval,
    payload,
    payload_encoding: device.payload_encoding ?? inherited.payload_encoding,
    topic,
    tags: device.tags ?? {},
    points: device.points.map(
      (point): PointConfigBase => ({
        ...point,
        topic: point.topic ?? pointTopic,
        qos: point.qos ?? inherited.qos,
        retain: point.retain ?? SITE_DEFAULTS.point.retain,
      }),
    ),
  };
  if (!driver?.withDefaults) return resolved;
  // The driver defaults its own points; computed points (the core's) keep their place in the list.
  const own = driver.withDefaults(driverView(resolved));
  if (own.points.length === resolved.points.length) return own;
  const driverPoints = own.points[Symbol.iterator]();
  return { ...own, points: resolved.points.map((p) => (isComputed(p) ? p : driverPoints.next().value as PointConfigBase)) };
}
