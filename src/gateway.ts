// Composition root. Start order: journal → uplink and forwarder → devices; stop in reverse, so no
// reading is ever taken that has no journal to go to, and the journal closes last.
import path from 'node:path';
import fs from 'node:fs';
import type { Logger } from 'pino';
import { loadDriver, type Clock, type DeviceConfigBase, type DriverDescriptor, type DriverEntry, type DriverFactory } from './driver-api/index.js';
import type { LoadedSite, SiteConfig } from './config/site-config.js';
import type { Journal } from './journal/journal.js';
import type { Uplink } from './uplink/uplink.js';
import { SqliteJournal } from './journal/sqlite-journal.js';
import { MqttUplink } from './uplink/mqtt-uplink.js';
import { AppendQueue } from './journal/append-queue.js';
import { Forwarder } from './forwarder/forwarder.js';
import { DeviceHost } from './scheduler/device-host.js';
import { CommandHandler } from './commands/command-handler.js';
import { Metrics } from './service/metrics.js';
import { SharedResourcePool } from './util/shared-resources.js';
import { compileTemplate } from './mapping/template.js';
import type { MappingDefaults } from './mapping/reading-mapper.js';
import { parseDuration, parseSize } from './util/duration.js';
import { errorText } from './util/errors.js';

export interface GatewayOptions {
  site: LoadedSite;
  /** Registrations are loaded on the first device of their type (start or reload). */
  drivers: readonly DriverEntry[];
  logger: Logger;
  clock?: Clock;
  metrics?: Metrics;
}

export interface GatewayHealth {
  healthy: boolean;
  checks: Record<string, { ok: boolean; detail: string }>;
}

const systemClock: Clock = { now: () => Date.now() };

export class Gateway {
  readonly metrics: Metrics;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private site: LoadedSite;
  private journal: Journal | undefined;
  private queue: AppendQueue | undefined;
  private uplink: Uplink | undefined;
  private forwarder: Forwarder | undefined;
  private commands: CommandHandler | undefined;
  private hosts = new Map<string, DeviceHost>();
  private readonly resources = new SharedResourcePool();
  private readonly loadedDrivers = new Map<string, Promise<DriverFactory>>();
  private disconnectedSince: number;
  private lastTick: number;
  private lastJournalError = 0;

  constructor(private readonly options: GatewayOptions) {
    this.site = options.site;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.metrics = options.metrics ?? new Metrics();
    this.disconnectedSince = this.clock.now();
    this.lastTick = this.clock.now();
  }

  get config(): SiteConfig {
    return this.site.config;
  }

  get isConnected(): boolean {
    return this.uplink?.connected ?? false;
  }

  get journalStats() {
    return this.journal?.stats();
  }

  async start(): Promise<void> {
    const cfg = this.site.config;
    const buffer = cfg.buffer ?? {};
    const journal = new SqliteJournal({
      path: resolveBufferPath(this.site),
      maxMessages: buffer.max_messages ?? 1_000_000,
      maxBytes: parseSize(buffer.max_bytes ?? '256MiB'),
      whenFull: buffer.when_full ?? 'drop_oldest',
      synchronous: buffer.synchronous ?? 'normal',
      logger: this.logger.child({ component: 'journal' }),
      clock: this.clock,
    });
    journal.open();
    this.journal = journal;
    this.metrics.setBacklogSource(() => {
      const s = journal.stats();
      return { depth: s.depth, bytes: s.bytes, oldestAgeSeconds: s.oldestTs === null ? 0 : Math.max(0, (this.clock.now() - s.oldestTs) / 1000) };
    });
    this.metrics.setInflightSource(() => this.forwarder?.inflight ?? 0);
    const drops = this.metrics.drops;
    this.queue = new AppendQueue({
      journal,
      onCommit: (result) => {
        if (result.refused > 0) drops.inc({ reason: 'drop_newest' }, result.refused);
        if (result.evicted > 0) drops.inc({ reason: 'drop_oldest' }, result.evicted);
        this.forwarder?.notify();
      },
      onError: (err, lost) => {
        this.lastJournalError = this.clock.now();
        drops.inc({ reason: 'journal_error' }, lost);
        this.logger.error({ err: errorText(err), lost }, 'journal write failed; readings of this batch are lost');
      },
    });
    const stats = journal.stats();
    this.logger.info({ path: resolveBufferPath(this.site), backlog: stats.depth, lastSeq: stats.lastSeq }, 'journal open');

    this.startUplink();
    await this.startDevices(cfg.devices);
    this.logger.info({ devices: cfg.devices.length }, 'gateway started');
  }

  async stop(options: { drainMs?: number } = {}): Promise<void> {
    const drainMs = options.drainMs ?? 3000;
    await this.stopDevices([...this.hosts.keys()]);
    this.queue?.flush();
    if (this.forwarder && this.uplink?.connected) {
      const done = await this.forwarder.drain(drainMs);
      const depth = this.journal?.stats().depth ?? 0;
      this.logger.info({ delivered: done, backlog: depth }, done ? 'backlog delivered before stop' : 'stopping with a backlog; it is kept for the next start');
    }
    await this.stopUplink();
    this.journal?.close();
    this.journal = undefined;
    this.logger.info('gateway stopped');
  }

  /**
   * Applies a new, already validated site file: devices whose settings changed restart, others
   * keep polling; a changed mqtt section reconnects; the journal is never touched.
   */
  async reload(next: LoadedSite): Promise<{ restarted: string[]; reconnected: boolean }> {
    const before = this.site.config;
    const after = next.config;
    const storage = (c: SiteConfig) => JSON.stringify({ ...c.buffer, ...forwardingKnobs(undefined) });
    if (storage(before) !== storage(after)) {
      this.logger.warn('buffer settings changed; they take effect at the next restart');
    }
    // The journal stays open across a reload: only the forwarding knobs of `buffer` apply now.
    const buffer = { ...before.buffer, ...forwardingKnobs(after) };
    this.site = { ...next, config: { ...after, buffer } };
    const reconnected = JSON.stringify(uplinkSettings(before)) !== JSON.stringify(uplinkSettings(after));
    if (reconnected) {
      this.logger.info('mqtt settings changed; reconnecting');
      await this.stopUplink();
      this.startUplink();
    }
    const mappingChanged = JSON.stringify(mappingKey(before)) !== JSON.stringify(mappingKey(after));
    const oldByName = new Map(before.devices.map((d) => [d.name, d]));
    const newByName = new Map(after.devices.map((d) => [d.name, d]));
    const restarted: string[] = [];
    const toStop: string[] = [];
    const toStart: DeviceConfigBase[] = [];
    for (const [name, dev] of oldByName) {
      const replacement = newByName.get(name);
      if (!replacement || mappingChanged || JSON.stringify(replacement) !== JSON.stringify(dev)) toStop.push(name);
    }
    for (const [name, dev] of newByName) {
      const old = oldByName.get(name);
      if (!old || mappingChanged || JSON.stringify(old) !== JSON.stringify(dev)) {
        toStart.push(dev);
        restarted.push(name);
      }
    }
    await this.stopDevices(toStop);
    await this.startDevices(toStart);
    this.logger.info({ restarted, reconnected }, 'configuration reloaded');
    return { restarted, reconnected };
  }

  /** Seconds of evidence the gateway is moving data, for the systemd watchdog. */
  progress(maxIdleMs: number): { ok: boolean; reason?: string } {
    const now = this.clock.now();
    const polled = [...this.hosts.values()].some((h) => this.factory(h.config.driver)?.polled(h.config));
    if (polled && now - this.lastTick > maxIdleMs) return { ok: false, reason: `no poll cycle for ${now - this.lastTick} ms` };
    if (this.lastJournalError > 0 && now - this.lastJournalError < maxIdleMs) return { ok: false, reason: 'journal writes are failing' };
    const f = this.forwarder;
    if (f && this.uplink?.connected && f.inflight > 0 && now - Math.max(f.lastAck, this.connectedAt) > maxIdleMs) {
      return { ok: false, reason: 'publishes are not being acknowledged' };
    }
    return { ok: true };
  }

  health(unhealthyAfterMs: number): GatewayHealth {
    const now = this.clock.now();
    const connected = this.uplink?.connected ?? false;
    const offlineMs = connected ? 0 : now - this.disconnectedSince;
    const stats = this.journal?.stats();
    const journalOk = this.journal !== undefined && !(this.lastJournalError > 0 && now - this.lastJournalError < unhealthyAfterMs);
    const uplinkOk = connected || offlineMs < unhealthyAfterMs;
    return {
      healthy: journalOk && uplinkOk,
      checks: {
        uplink: { ok: uplinkOk, detail: connected ? 'connected' : `disconnected for ${Math.round(offlineMs / 1000)} s` },
        journal: { ok: journalOk, detail: stats ? `backlog ${stats.depth} messages` : 'closed' },
        devices: {
          ok: true,
          detail: `${[...this.hosts.values()].filter((h) => !h.healthy).length} of ${this.hosts.size} devices faulty`,
        },
      },
    };
  }

  private connectedAt = 0;

  private startUplink(): void {
    const cfg = this.site.config;
    const mqtt = cfg.mqtt;
    const vars = { site: cfg.site, gateway: cfg.gateway ?? '' };
    const dir = path.dirname(this.site.file);
    const read = (p: string | undefined) => (p === undefined ? undefined : fs.readFileSync(path.resolve(dir, p)));
    const statusTopic = compileTemplate(mqtt.status_topic ?? '{site}/{gateway}/status').render(vars);
    const uplink = new MqttUplink({
      urls: mqtt.urls ?? [mqtt.url!],
      clientId: compileTemplate(mqtt.client_id ?? 'fieldgate-{site}-{gateway}').render(vars),
      username: mqtt.username,
      password: mqtt.password,
      protocolVersion: mqtt.protocol_version ?? 4,
      keepaliveMs: parseDuration(mqtt.keepalive ?? '30s'),
      connectTimeoutMs: parseDuration(mqtt.connect_timeout ?? '10s'),
      refusedRetryMs: parseDuration(mqtt.refused_retry ?? '1s'),
      tls: mqtt.tls ? { ca: read(mqtt.tls.ca), cert: read(mqtt.tls.cert), key: read(mqtt.tls.key), servername: mqtt.tls.servername } : undefined,
      status: { topic: statusTopic, online: 'online', offline: 'offline', qos: 1, retain: true },
      logger: this.logger.child({ component: 'uplink' }),
      clock: this.clock,
      onReconnectAttempt: () => this.metrics.reconnects.inc(),
    });
    uplink.on('connect', () => {
      this.connectedAt = this.clock.now();
      this.metrics.connected.set(1);
    });
    uplink.on('disconnect', () => {
      this.disconnectedSince = this.clock.now();
      this.metrics.connected.set(0);
    });
    const ok = this.metrics.published.labels('ok');
    const failed = this.metrics.published.labels('error');
    const buffer = cfg.buffer ?? {};
    this.forwarder = new Forwarder({
      journal: this.journal!,
      uplink,
      inflight: buffer.inflight ?? 100,
      replayRate: buffer.replay_rate ?? 0,
      pack: buffer.pack === true ? { maxRows: buffer.max_pack ?? 100, maxBytes: parseSize(buffer.max_pack_bytes ?? '64KiB') } : undefined,
      logger: this.logger.child({ component: 'forwarder' }),
      clock: this.clock,
      onPublished: (success) => (success ? ok.inc() : failed.inc()),
    });
    this.commands = new CommandHandler({
      uplink,
      logger: this.logger.child({ component: 'commands' }),
      onResult: (success) => this.metrics.commands.inc({ result: success ? 'ok' : 'rejected' }),
    });
    this.commands.setDevices([...this.hosts.values()]);
    this.uplink = uplink;
    this.forwarder.start();
    uplink.start();
  }

  private async stopUplink(): Promise<void> {
    this.forwarder?.stop();
    await this.uplink?.stop();
    this.uplink?.removeAllListeners();
    this.uplink = undefined;
    this.forwarder = undefined;
    this.commands = undefined;
    this.metrics.connected.set(0);
  }

  private factory(type: string): DriverDescriptor | undefined {
    return this.options.drivers.find((d) => d.type === type);
  }

  private async loadFactory(entry: DriverEntry): Promise<DriverFactory> {
    let loaded = this.loadedDrivers.get(entry.type);
    if (!loaded) {
      loaded = loadDriver(entry);
      this.loadedDrivers.set(entry.type, loaded);
    }
    return loaded;
  }

  private async startDevices(devices: readonly DeviceConfigBase[]): Promise<void> {
    const defaults = mappingDefaults(this.site.config);
    const started: DeviceHost[] = [];
    for (const device of devices) {
      const entry = this.options.drivers.find((d) => d.type === device.driver);
      if (!entry) {
        this.logger.error({ device: device.name, driver: device.driver }, 'unknown driver; device not started');
        continue;
      }
      const factory = await this.loadFactory(entry);
      const host = new DeviceHost({
        device,
        factory,
        defaults,
        logger: this.logger,
        clock: this.clock,
        resources: this.resources,
        sink: (entries) => this.queue!.push(entries),
        onReadings: (name, n) => this.metrics.readings.inc({ device: name }, n),
        onError: (name, kind) => this.metrics.pollErrors.inc({ device: name, kind }),
        onTick: () => {
          this.lastTick = this.clock.now();
        },
      });
      this.hosts.set(device.name, host);
      started.push(host);
    }
    // Devices start concurrently: one slow BLE connect must not delay a Modbus meter.
    await Promise.all(started.map((h) => h.start()));
    this.commands?.setDevices([...this.hosts.values()]);
  }

  private async stopDevices(names: readonly string[]): Promise<void> {
    const hosts = names.map((n) => this.hosts.get(n)).filter((h): h is DeviceHost => h !== undefined);
    for (const n of names) this.hosts.delete(n);
    await Promise.all(hosts.map((h) => h.stop()));
    this.commands?.setDevices([...this.hosts.values()]);
  }
}

/** What every device's mapping inherits from the top of the site file (gateway and `read` alike). */
export function mappingDefaults(cfg: SiteConfig): MappingDefaults {
  return {
    site: cfg.site,
    gateway: cfg.gateway ?? '',
    topic: cfg.topic ?? '{site}/{device}/{point}',
    payload: cfg.payload ?? 'json',
    encoding: cfg.payload_encoding ?? 'json',
    qos: cfg.mqtt.qos ?? 1,
  };
}

/** The loader fills in the default path; relative paths are relative to the site file. */
export function resolveBufferPath(site: LoadedSite): string {
  return path.resolve(path.dirname(site.file), site.config.buffer?.path ?? 'data/buffer.db');
}

/** The `buffer` keys that only steer forwarding, so a reload can apply them to the open journal. */
function forwardingKnobs(cfg: SiteConfig | undefined) {
  const b = cfg?.buffer;
  return { inflight: b?.inflight, replay_rate: b?.replay_rate, pack: b?.pack, max_pack: b?.max_pack, max_pack_bytes: b?.max_pack_bytes };
}

function uplinkSettings(cfg: SiteConfig): unknown {
  return { mqtt: cfg.mqtt, site: cfg.site, gateway: cfg.gateway, buffer: forwardingKnobs(cfg) };
}

function mappingKey(cfg: SiteConfig): unknown {
  return { site: cfg.site, gateway: cfg.gateway, topic: cfg.topic, payload: cfg.payload, encoding: cfg.payload_encoding, qos: cfg.mqtt.qos };
}
