// The resolved site: what loading a site file produces and everything after loading consumes.
// Every defaulted key is present and converted — milliseconds, bytes, absolute paths, TLS
// material read, client id and status topic rendered — so no code outside src/config supplies a
// default or parses a duration of the site file's top level again.
import path from 'node:path';
import type { DeviceConfigBase } from '../driver-api/index.js';
import type { Qos } from '../journal/journal.js';
import type { PayloadEncoding, PayloadFormat } from '../mapping/payload.js';
import { compileTemplate } from '../mapping/template.js';
import { parseDuration, parseSize } from '../util/duration.js';
import { parseListenAddress, type ListenAddress } from '../util/listen-address.js';
import { readBoundedFile } from '../util/read-bounded-file.js';
import { PUBLIC_KEY_MAX_BYTES, TLS_FILE_MAX_BYTES } from './file-limits.js';
import type { SiteConfig, SyncMode, WhenFull } from './site-config.js';
import { SITE_DEFAULTS } from './defaults.js';

export interface ResolvedMqtt {
  urls: string[];
  clientId: string;
  username?: string;
  password?: string;
  protocolVersion: 4 | 5;
  /** Default QoS of readings (points inherit it). */
  qos: Qos;
  keepaliveMs: number;
  connectTimeoutMs: number;
  refusedRetryMs: number;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string };
  /** Rendered `status_topic`: online/offline, and `<statusTopic>/journal`. */
  statusTopic: string;
}

export interface ResolvedBuffer {
  /** Absolute path of the journal file. */
  path: string;
  maxMessages: number;
  maxBytes: number;
  whenFull: WhenFull;
  synchronous: SyncMode;
  /** buffer.sync_interval in ms: longest a commit waits to be flushed to storage (synchronous normal). */
  syncIntervalMs: number;
  /** buffer.commit_interval in ms: longest a reading waits for its commit; 0 = at the end of the turn. */
  commitIntervalMs: number;
  /** buffer.memory_fallback in bytes: what the journal may hold in memory if its storage fails; 0 = never. */
  memoryFallbackBytes: number;
  inflight: number;
  /** Rows per second while a backlog drains; 0 = unlimited. */
  replayRate: number;
  /** Packing of a draining backlog; undefined = off. */
  pack: { maxRows: number; maxBytes: number } | undefined;
  /** buffer.keep_delivered in ms; 0 = delivered rows are deleted (and replay is refused). */
  keepDeliveredMs: number;
}

export interface ResolvedHttp {
  /** `http.listen` as written (for messages) and parsed. */
  listen: string;
  address: ListenAddress;
  unhealthyAfterMs: number;
  token: string | undefined;
}

/** What every device's mapping inherits from the top of the site file. */
export interface MappingDefaults {
  site: string;
  gateway: string;
  /** Per-point topic template. */
  topic: string;
  payload: PayloadFormat;
  encoding: PayloadEncoding;
  qos: Qos;
}

/** A device with its own defaults, its driver's defaults and what it inherits filled in. */
export interface ResolvedDevice extends DeviceConfigBase {
  interval: string;
  /** `interval` in milliseconds. */
  intervalMs: number;
}

/** remote_config (docs/remote-config.md). */
export interface ResolvedRemoteConfig {
  /** Rendered topic candidates arrive on. */
  topic: string;
  /** `<topic>/status`: refusals and outcomes. */
  statusTopic: string;
  /** Absolute path of the Ed25519 public key and its PEM text. */
  publicKeyFile: string;
  publicKey: string;
  trialMs: number;
  maxBytes: number;
}

export interface ResolvedSite {
  /** Absolute path of the site file; relative paths in it resolved against its directory. */
  file: string;
  /** Secrets found in the file (after ${VAR} expansion and password/token files), for log redaction. */
  secrets: string[];
  /** The file as validated with every default filled in: what reload plans compare. */
  config: SiteConfig;
  site: string;
  gateway: string;
  mqtt: ResolvedMqtt;
  buffer: ResolvedBuffer;
  http: ResolvedHttp | undefined;
  /** Home Assistant MQTT discovery; undefined when not enabled. */
  homeassistant: { prefix: string } | undefined;
  mapping: MappingDefaults;
  /** Undefined when remote configuration is off (the default). */
  remoteConfig: ResolvedRemoteConfig | undefined;
  devices: ResolvedDevice[];
}

/**
 * Converts a validated, defaulted config (applyDefaults) into the resolved site. TLS material
 * comes from `files` (what validation read); a file not there is read now.
 */
export function resolveSite(config: SiteConfig, file: string, secrets: string[], files: ReadonlyMap<string, Buffer> = new Map()): ResolvedSite {
  const m = config.mqtt;
  const b = config.buffer!;
  const names = { site: config.site, gateway: config.gateway! };
  const dir = path.dirname(file);
  const read = (p: string | undefined): Buffer | undefined => {
    if (p === undefined) return undefined;
    const full = path.resolve(dir, p);
    return files.get(full) ?? readBoundedFile(full, TLS_FILE_MAX_BYTES);
  };
  const mqtt: ResolvedMqtt = {
    urls: m.urls ?? [m.url!],
    clientId: compileTemplate(m.client_id!).render(names),
    ...(m.username === undefined ? {} : { username: m.username }),
    ...(m.password === undefined ? {} : { password: m.password }),
    protocolVersion: m.protocol_version!,
    qos: m.qos!,
    keepaliveMs: parseDuration(m.keepalive!),
    connectTimeoutMs: parseDuration(m.connect_timeout!),
    refusedRetryMs: parseDuration(m.refused_retry!),
    ...(m.tls ? { tls: { ca: read(m.tls.ca), cert: read(m.tls.cert), key: read(m.tls.key), servername: m.tls.servername } } : {}),
    statusTopic: compileTemplate(m.status_topic!).render(names),
  };
  const buffer: ResolvedBuffer = {
    path: b.path!,
    maxMessages: b.max_messages!,
    maxBytes: parseSize(b.max_bytes!),
    whenFull: b.when_full!,
    synchronous: b.synchronous!,
    syncIntervalMs: parseDuration(b.sync_interval!),
    commitIntervalMs: parseDuration(b.commit_interval!),
    memoryFallbackBytes: parseSize(b.memory_fallback!),
    inflight: b.inflight!,
    replayRate: b.replay_rate!,
    pack: b.pack ? { maxRows: b.max_pack!, maxBytes: parseSize(b.max_pack_bytes!) } : undefined,
    keepDeliveredMs: b.keep_delivered === undefined ? 0 : parseDuration(b.keep_delivered),
  };
  const h = config.http;
  const http: ResolvedHttp | undefined = h?.listen === undefined ? undefined : {
    listen: h.listen,
    address: parseListenAddress(h.listen)!,
    unhealthyAfterMs: parseDuration(h.unhealthy_after!),
    token: h.token,
  };
  const r = config.remote_config;
  const remoteConfig: ResolvedRemoteConfig | undefined = r === undefined ? undefined : {
    topic: r.topic!,
    statusTopic: `${r.topic!}/status`,
    publicKeyFile: r.public_key,
    publicKey: readBoundedFile(r.public_key, PUBLIC_KEY_MAX_BYTES).toString('utf8'),
    trialMs: parseDuration(r.trial!),
    maxBytes: parseSize(r.max_bytes!),
  };
  return {
    file,
    secrets,
    config,
    site: config.site,
    gateway: config.gateway!,
    mqtt,
    buffer,
    http,
    homeassistant: config.homeassistant?.enabled ? { prefix: config.homeassistant.prefix! } : undefined,
    mapping: {
      site: config.site,
      gateway: config.gateway!,
      topic: config.topic!,
      payload: config.payload!,
      encoding: config.payload_encoding!,
      qos: m.qos!,
    },
    remoteConfig,
    devices: config.devices.map((d) => ({ ...d, interval: d.interval!, intervalMs: parseDuration(d.interval!) })),
  };
}

/** The journal settings for a file named on the command line without a site file (the defaults). */
export function bufferForPath(file: string): ResolvedBuffer {
  const d = SITE_DEFAULTS.buffer;
  return {
    path: path.resolve(file),
    maxMessages: d.max_messages,
    maxBytes: parseSize(d.max_bytes),
    whenFull: d.when_full,
    synchronous: d.synchronous,
    syncIntervalMs: parseDuration(d.sync_interval),
    commitIntervalMs: parseDuration(d.commit_interval),
    memoryFallbackBytes: parseSize(d.memory_fallback),
    inflight: d.inflight,
    replayRate: d.replay_rate,
    pack: undefined,
    keepDeliveredMs: 0,
  };
}
