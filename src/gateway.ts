// Composition root. Start order: journal → uplink and forwarder → devices; stop in reverse, so no
// reading is ever taken that has no journal to go to, and the journal closes last.
import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock, DriverEntry } from './driver-api/index.js';
import type { SiteConfig } from './config/site-config.js';
import type { ResolvedSite } from './config/resolved-site.js';
import type { Journal, JournalStats, NewEntry } from './journal/journal.js';
import type { Uplink } from './uplink/uplink.js';
import { SqliteJournal } from './journal/sqlite-journal.js';
import { MqttUplink } from './uplink/mqtt-uplink.js';
import { AppendQueue } from './journal/append-queue.js';
import { readBootId } from './journal/boot-marker.js';
import { Forwarder } from './forwarder/forwarder.js';
import { DeviceFleet } from './scheduler/device-fleet.js';
import { CommandHandler } from './commands/command-handler.js';
import { ReplayService } from './replay/replay-service.js';
import { replayTopicsOf } from './replay/replay-topics.js';
import { ClockGuard } from './clock/clock-guard.js';
import { ClockSegmentFile, clockFileFor } from './clock/clock-segments.js';
import { type ClockSource, SystemClockSource } from './clock/clock-source.js';
import { Metrics } from './service/metrics.js';
import { compileTemplate } from './mapping/template.js';
import { planReload, runningConfig, type ReloadPlan } from './config/reload-plan.js';
import { resolveSite, type ResolvedDevice } from './config/resolved-site.js';
import { buildStatus } from './service/status-builder.js';
import { RateMeter } from './service/rate-meter.js';
import type { StatusSnapshot } from './service/status-snapshot.js';
import { journalInfoPayload, journalInfoTopic } from './mapping/journal-info.js';
import type { MappingDefaults } from './mapping/reading-mapper.js';
import { parseDuration, parseSize } from './util/duration.js';
import { errorText } from './util/errors.js';
import { readBoundedFile } from './util/read-bounded-file.js';
import { TLS_FILE_MAX_BYTES } from './config/file-limits.js';
import { HomeAssistantAnnouncer } from './homeassistant/announcer.js';
import { discoveryRemovals, sitePlan, type DiscoveryPlan } from './homeassistant/discovery.js';
import { packageVersion } from './util/package-root.js';

export interface GatewayOptions {
  site: ResolvedSite;
  /** Registrations are loaded on the first device of their type (start or reload). */
  drivers: readonly DriverEntry[];
  logger: Logger;
  clock?: Clock;
  /** Whether the system clock is synchronized, monotonic time, boot id (clock-guard.ts). */
  clockSource?: ClockSource;
  metrics?: Metrics;
  /** Called with every uplink the gateway builds (start, and reloads that reconnect), before it connects. */
  onUplink?: (uplink: Uplink) => void;
  /** Fields added to the retained journal announcement (the birth message), e.g. the config version. */
  birth?: () => Record<string, unknown> | undefined;
  /** mqtt.js's own debug log (MqttUplinkOptions.protocolLog): `debug` when DEBUG asks for it. */
  protocolLog?: 'debug' | 'off';
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
  private site: ResolvedSite;
  private journal: Journal | undefined;
  private queue: AppendQueue | undefined;
  private uplink: Uplink | undefined;
  private forwarder: Forwarder | undefined;
  private commands: CommandHandler | undefined;
  private announcer: HomeAssistantAnnouncer | undefined;
  /** Home Assistant discovery of the site in force; undefined when it is off. */
  private discovery: DiscoveryPlan | undefined;
  private replay: ReplayService | undefined;
  private clockGuard: ClockGuard | undefined;
  private readonly devices: DeviceFleet;
  private disconnectedSince: number;
  private lastTick: number;
  private lastJournalError = 0;
  private readonly startedAt: number;
  private loadedAt: number;
  private reconnects = 0;
  private brokerUrl: string | undefined;
  private readonly delivered = new RateMeter();
  /** The retained journal announcement, sent after the online status on every connection. */
  private journalInfo: Buffer | undefined;

  constructor(private readonly options: GatewayOptions) {
    this.site = options.site;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.metrics = options.metrics ?? new Metrics();
    this.disconnectedSince = this.clock.now();
    this.lastTick = this.clock.now();
    this.startedAt = this.clock.now();
    this.loadedAt = this.startedAt;
    this.discovery = sitePlan(this.site, options.drivers, packageVersion());
    this.devices = new DeviceFleet({
      drivers: options.drivers, logger: this.logger, clock: this.clock,
      host: (device) => {
        // Devices hand their entries straight to the append queue; nothing on that path goes
        // through the gateway.
        const queue = this.queue!;
        return {
          sink: (entries: NewEntry[]) => queue.push(entries),
          onReadings: readingsCounter(this.metrics, device.name),
          onError: (name, kind) => this.metrics.pollErrors.inc({ device: name, kind }),
          onTick: () => {
            this.lastTick = this.clock.now();
          },
          onHealth: (name, healthy) => this.announcer?.deviceHealth(name, healthy),
        };
      },
    });
  }

  /** What the status page and /api/status show (status-builder.ts). */
  status(version: string): StatusSnapshot {
    const now = this.clock.now();
    const connected = this.uplink?.connected ?? false;
    return buildStatus({
      config: this.site.config,
      file: this.site.file,
      version,
      now,
      startedAt: this.startedAt,
      loadedAt: this.loadedAt,
      defaults: this.site.mapping,
      uplink: { connected, url: this.brokerUrl, since: connected ? this.connectedAt : this.disconnectedSince, reconnects: this.reconnects },
      journal: this.journal?.stats(),
      deliveredPerSecond: this.delivered.perSecond(now),
      devices: this.devices.all().map((h) => ({
        config: h.config, healthy: h.healthy, status: h.status, plan: h.plan,
      })),
    });
  }

  get config(): SiteConfig {
    return this.site.config;
  }

  /** The site in force (after reloads, with the keys that wait for a restart at their running values). */
  get resolvedSite(): ResolvedSite {
    return this.site;
  }

  get isConnected(): boolean {
    return this.uplink?.connected ?? false;
  }

  /** Each running device: healthy or not, and when it last read a good value. */
  devicesObserved(): { name: string; healthy: boolean; lastGoodAt: number | undefined }[] {
    return this.devices.all().map((h) => ({ name: h.name, healthy: h.healthy, lastGoodAt: h.status.lastGoodAt }));
  }

  get journalStats() {
    return this.journal?.stats();
  }

  /**
   * Commits the readings still waiting for their commit (buffer.commit_interval) now. The run
   * command calls it when the process exits by any path it sees: the commit is synchronous.
   */
  commitPending(): void {
    this.queue?.flush();
  }

  async start(): Promise<void> {
    const buffer = this.site.buffer;
    const journal = new SqliteJournal({
      path: buffer.path,
      maxMessages: buffer.maxMessages,
      maxBytes: buffer.maxBytes,
      keepDeliveredMs: buffer.keepDeliveredMs,
      whenFull: buffer.whenFull,
      synchronous: buffer.synchronous,
      syncIntervalMs: buffer.syncIntervalMs,
      memoryFallbackBytes: buffer.memoryFallbackBytes,
      ...(process.env.RUNTIME_DIRECTORY ? { runtimeDir: process.env.RUNTIME_DIRECTORY.split(':')[0] } : {}),
      // The gateway is the journal's one writer: it marks the journal open in this boot.
      bootId: readBootId(),
      logger: this.logger.child({ component: 'journal' }),
      clock: this.clock,
      // A journal that cannot be opened (full disk, permissions) must not stop acquisition: readings
      // are refused and counted while it retries.
      onOpenFailure: 'retry',
      onOpen: (opening) => {
        if (opening.reset) this.metrics.journalResets.inc({ reason: opening.reset.reason });
        this.journalInfo = journalInfoPayload(opening);
        this.announceJournal();
        // Once the journal knows its last seq (a journal that cannot be opened yet does not).
        if (!this.clockGuard) this.startClockGuard(journal);
      },
    });
    this.journal = journal;
    this.metrics.setBacklogSource(() => {
      const s = journal.stats();
      return {
        depth: s.depth, bytes: s.bytes, available: s.available, inMemory: s.storage === 'memory',
        oldestAgeSeconds: s.oldestTs === null ? 0 : Math.max(0, (this.clock.now() - s.oldestTs) / 1000),
      };
    });
    this.metrics.setInflightSource(() => this.forwarder?.inflight ?? 0);
    const drops = this.metrics.drops;
    this.queue = new AppendQueue({
      journal,
      intervalMs: buffer.commitIntervalMs,
      onCommit: (result) => {
        if (result.refused > 0) drops.inc({ reason: 'drop_newest' }, result.refused);
        if (result.evicted > 0) drops.inc({ reason: 'drop_oldest' }, result.evicted);
        this.forwarder?.committed(result.rows);
      },
      onError: (err, lost) => {
        this.lastJournalError = this.clock.now();
        drops.inc({ reason: 'journal_error' }, lost);
        this.logger.error({ err: errorText(err), lost }, 'journal write failed; readings of this batch are lost');
      },
    });
    journal.open();
    const stats = journal.stats();
    if (stats.available) this.logger.info({ path: this.site.buffer.path, backlog: stats.depth, lastSeq: stats.lastSeq }, 'journal open');

    this.startUplink();
    await this.startDevices(this.site.devices);
    this.logger.info({ devices: this.site.devices.length }, 'gateway started');
  }

  async stop(options: { drainMs?: number } = {}): Promise<void> {
    const drainMs = options.drainMs ?? 3000;
    await this.stopDevices(this.devices.names());
    this.queue?.flush();
    if (this.forwarder && this.uplink?.connected) {
      const done = await this.forwarder.drain(drainMs);
      const depth = this.journal?.stats().depth ?? 0;
      this.logger.info({ delivered: done, backlog: depth }, done ? 'backlog delivered before stop' : 'stopping with a backlog; it is kept for the next start');
    }
    await this.stopUplink();
    this.clockGuard?.stop();
    this.clockGuard = undefined;
    this.journal?.close();
    this.journal = undefined;
    this.logger.info('gateway stopped');
  }

  /**
   * Applies a new, already validated site file as planReload decides: changed devices restart,
   * others keep polling; a changed mqtt section reconnects; the journal is never touched, so its
   * own settings wait for the next start (the running values are kept meanwhile).
   */
  async reload(next: ResolvedSite): Promise<ReloadPlan> {
    const before = this.site.config;
    const plan = planReload(before, next.config);
    if (plan.nextStart.length > 0) this.logger.warn({ keys: plan.nextStart }, 'these settings take effect at the next restart');
    // Keys that wait for the next start keep their running values, in the resolved form too.
    this.site = plan.nextStart.length === 0 ? next : resolveSite(runningConfig(before, next.config, plan), next.file, next.secrets);
    this.loadedAt = this.clock.now();
    // Home Assistant forgets removed devices and points before anything else changes.
    const discovery = sitePlan(this.site, this.options.drivers, packageVersion());
    this.announcer?.send(discoveryRemovals(this.discovery, discovery));
    if (this.discovery) {
      const kept = new Set(discovery ? this.site.devices.map((d) => d.name) : []);
      for (const d of before.devices) if (!kept.has(d.name)) this.announcer?.forget(d.name);
    }
    this.discovery = discovery;
    if (plan.reconnect) {
      this.logger.info('mqtt settings changed; reconnecting');
      await this.stopUplink();
      this.startUplink();
    }
    const byName = new Map(this.site.devices.map((d) => [d.name, d]));
    await this.stopDevices(plan.stop);
    await this.startDevices(plan.start.map((n) => byName.get(n)!));
    this.announcer?.announce();
    this.logger.info({ restarted: plan.start, stopped: plan.stop, reconnected: plan.reconnect, changed: plan.changed }, 'configuration reloaded');
    return plan;
  }

  /** Seconds of evidence the gateway is moving data, for the systemd watchdog. */
  progress(maxIdleMs: number): { ok: boolean; reason?: string } {
    const now = this.clock.now();
    const polled = this.devices.all().some((h) => h.polled);
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
    const inMemory = stats?.storage === 'memory';
    const journalOk = stats !== undefined && stats.available && !inMemory && !(this.lastJournalError > 0 && now - this.lastJournalError < unhealthyAfterMs);
    const uplinkOk = connected || offlineMs < unhealthyAfterMs;
    return {
      healthy: journalOk && uplinkOk,
      checks: {
        uplink: { ok: uplinkOk, detail: connected ? 'connected' : `disconnected for ${Math.round(offlineMs / 1000)} s` },
        journal: { ok: journalOk, detail: journalDetail(stats) },
        devices: {
          ok: true,
          detail: `${this.devices.all().filter((h) => !h.healthy).length} of ${this.devices.size} devices faulty`,
        },
      },
    };
  }

  private connectedAt = 0;

  private startUplink(): void {
    const mqtt = this.site.mqtt;
    const uplink = new MqttUplink({
      protocolLog: this.options.protocolLog,
      urls: mqtt.urls,
      clientId: mqtt.clientId,
      username: mqtt.username,
      password: mqtt.password,
      protocolVersion: mqtt.protocolVersion,
      keepaliveMs: mqtt.keepaliveMs,
      connectTimeoutMs: mqtt.connectTimeoutMs,
      refusedRetryMs: mqtt.refusedRetryMs,
      tls: mqtt.tls,
      status: { topic: mqtt.statusTopic, online: 'online', offline: 'offline', qos: 1, retain: true },
      logger: this.logger.child({ component: 'uplink' }),
      clock: this.clock,
      onReconnectAttempt: () => {
        this.reconnects += 1;
        this.metrics.reconnects.inc();
      },
    });
    uplink.on('connect', (info) => {
      this.connectedAt = this.clock.now();
      this.brokerUrl = info.url;
      this.metrics.connected.set(1);
      // Before the forwarder's first row of this connection (it pumps on a later turn).
      this.announceJournal();
      this.clockGuard?.connected();
    });
    uplink.on('disconnect', () => {
      this.disconnectedSince = this.clock.now();
      this.metrics.connected.set(0);
    });
    const ok = this.metrics.publishedWith('ok');
    const failed = this.metrics.publishedWith('error');
    const buffer = this.site.buffer;
    this.forwarder = new Forwarder({
      journal: this.journal!,
      uplink,
      inflight: buffer.inflight,
      replayRate: buffer.replayRate,
      pack: buffer.pack,
      restamp: (rows) => (this.clockGuard ? this.clockGuard.restamp(rows) : rows),
      logger: this.logger.child({ component: 'forwarder' }),
      clock: this.clock,
      onPublished: (success, rows) => {
        if (success) {
          ok();
          this.delivered.add(rows, this.clock.now());
        } else {
          failed();
        }
      },
    });
    this.commands = new CommandHandler({
      uplink,
      logger: this.logger.child({ component: 'commands' }),
      onResult: (success) => this.metrics.commands.inc({ result: success ? 'ok' : 'rejected' }),
    });
    this.commands.setDevices(this.devices.all());
    this.announcer = new HomeAssistantAnnouncer({
      uplink,
      logger: this.logger.child({ component: 'homeassistant' }),
      statusTopic: mqtt.statusTopic,
      plan: () => this.discovery,
      health: () => this.devices.all().map((h) => [h.name, h.healthy] as const),
    });
    this.announcer.start();
    this.replay = new ReplayService({
      journal: this.journal!, uplink, clock: this.clock, logger: this.logger.child({ component: 'replay' }),
      topic: `${this.site.site}/${this.site.gateway}/cmd/replay`, keepDelivered: buffer.keepDeliveredMs > 0,
      rate: buffer.replayRate, inflight: buffer.inflight, pack: buffer.pack,
      topics: replayTopicsOf(() => this.devices.all()),
      restamp: (rows) => (this.clockGuard ? this.clockGuard.restamp(rows, false) : rows),
    });
    this.replay.start();
    this.uplink = uplink;
    this.options.onUplink?.(uplink);
    this.forwarder.start();
    uplink.start();
  }

  /** Publishes the journal announcement again (its birth fields changed). */
  announce(): void {
    this.announceJournal();
  }

  private startClockGuard(journal: Journal): void {
    const guard = new ClockGuard({
      source: this.options.clockSource ?? new SystemClockSource(),
      file: new ClockSegmentFile(clockFileFor(this.site.buffer.path)),
      lastSeq: () => journal.stats().lastSeq,
      oldestHeldSeq: () => {
        const s = journal.stats();
        return Math.min(s.oldestSeq ?? s.lastSeq + 1, s.delivered.oldestSeq ?? s.lastSeq + 1);
      },
      logger: this.logger.child({ component: 'clock' }),
      onChange: () => this.forwarder?.notify(),
    });
    try {
      guard.open();
    } catch (err) {
      // Clock handling is a refinement: without it readings keep the times they were taken with.
      this.logger.error({ err: errorText(err) }, 'clock guard could not start; readings keep their wall-clock times');
      return;
    }
    guard.start();
    this.clockGuard = guard;
    this.metrics.setClockSource(() => guard.synchronized);
  }

  private announceJournal(): void {
    const uplink = this.uplink;
    const info = this.journalInfo;
    if (!uplink?.connected || !info) return;
    const extra = this.options.birth?.();
    const payload = extra ? Buffer.from(JSON.stringify({ ...(JSON.parse(info.toString()) as object), ...extra })) : info;
    uplink.publish({ topic: journalInfoTopic(this.site.mqtt.statusTopic), payload, qos: 1, retain: true }, (err) => {
      if (err) this.logger.warn({ err: errorText(err) }, 'journal announcement not acknowledged; sent again on the next connection');
    });
  }

  private async stopUplink(): Promise<void> {
    const forwarder = this.forwarder;
    forwarder?.stop();
    this.replay?.stop();
    await this.uplink?.stop();
    // Acknowledgements that arrived while the uplink closed are removed now, not after the
    // journal is gone (they would be sent again on the next start).
    forwarder?.close();
    this.uplink?.removeAllListeners();
    this.uplink = undefined;
    this.forwarder = undefined;
    this.commands = undefined;
    this.announcer = undefined;
    this.replay?.stop();
    this.replay = undefined;
    this.metrics.connected.set(0);
  }

  private async startDevices(devices: readonly ResolvedDevice[]): Promise<void> {
    const started = await this.devices.start(devices, this.site.mapping);
    this.commands?.setDevices(this.devices.all());
    // A device's availability starts with the device (the connection's announcement may have
    // come before it existed); it changes with its health afterwards.
    for (const h of started) this.announcer?.deviceHealth(h.name, h.healthy);
  }

  private async stopDevices(names: readonly string[]): Promise<void> {
    await this.devices.stop(names);
    this.commands?.setDevices(this.devices.all());
  }
}

/** The readings counter of one device, its label resolved once rather than at every poll. */
function readingsCounter(metrics: Metrics, device: string): (name: string, n: number) => void {
  const add = metrics.readingsOf(device);
  return (_name, n) => add(n);
}

function journalDetail(stats: JournalStats | undefined): string {
  if (!stats) return 'closed';
  if (!stats.available) return 'cannot be opened; readings are refused';
  if (stats.storage === 'memory') return `storage failed: in memory (lost on stop), backlog ${stats.depth} messages`;
  return `backlog ${stats.depth} messages`;
}
