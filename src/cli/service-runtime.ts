// The systemd-facing side of `fieldgate run`: sd_notify (READY, STATUS, RELOADING, STOPPING),
// the watchdog fed only on real progress, and the optional metrics/health HTTP endpoint.
import type { Logger } from 'pino';
import type { Gateway } from '../gateway.js';
import type { ResolvedSite } from '../config/resolved-site.js';
import { SdNotify } from '../service/sd-notify.js';
import { Watchdog } from '../service/watchdog.js';
import path from 'node:path';
import { HttpServer } from '../service/http-server.js';
import { StatusPage, isLoopbackHost } from '../service/status-page.js';
import { packageRoot, packageVersion } from '../util/package-root.js';
import type { StatusSnapshot } from '../service/status-snapshot.js';

export interface ServiceRuntimeOptions {
  gateway: Gateway;
  site: ResolvedSite;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** How often STATUS= is refreshed; default 10 s. */
  statusEveryMs?: number;
  /** No poll cycle or acknowledgement for this long counts as a stall; default max(30 s, 3 × longest interval). */
  maxIdleMs?: number;
  /** The site-file version in force (remote configuration), for /healthz and the status page. */
  configVersion?: () => { version: string; state: string } | undefined;
}

export class ServiceRuntime {
  private readonly notify: SdNotify;
  private watchdog: Watchdog | undefined;
  private http: HttpServer | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private site: ResolvedSite;

  constructor(private readonly options: ServiceRuntimeOptions) {
    this.site = options.site;
    this.notify = new SdNotify({ logger: options.logger.child({ component: 'sd_notify' }), env: options.env });
  }

  async start(): Promise<void> {
    await this.startHttp();
    const period = this.notify.watchdogPeriodMs;
    if (period !== undefined) {
      // A gateway is stuck when nothing moved for most of the watchdog period (at least 30 s, so
      // a device with a long interval is not mistaken for a stall).
      const maxIdle = this.options.maxIdleMs ?? Math.max(30_000, this.longestIntervalMs() * 3);
      this.watchdog = new Watchdog({
        notify: this.notify,
        periodMs: period,
        progress: () => this.options.gateway.progress(maxIdle),
        logger: this.options.logger.child({ component: 'watchdog' }),
      });
      this.watchdog.start();
    }
    this.ready();
    this.statusTimer = setInterval(() => this.notify.status(this.statusLine()), this.options.statusEveryMs ?? 10_000);
    this.statusTimer.unref();
  }

  ready(): void {
    this.notify.ready(this.statusLine());
  }

  reloading(): void {
    this.notify.reloading('reloading configuration');
  }

  /** After the gateway applied `next`: restarts the HTTP server when the plan says its settings changed. */
  async reload(next: ResolvedSite, restartHttp: boolean): Promise<void> {
    this.site = next;
    if (restartHttp) {
      await this.http?.stop();
      this.http = undefined;
      await this.startHttp();
    }
  }

  stopping(): void {
    this.notify.stopping('stopping: delivering what the broker will take');
  }

  async stop(): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.watchdog?.stop();
    await this.http?.stop();
  }

  private async startHttp(): Promise<void> {
    const http = this.site.http;
    if (!http) return;
    const grace = http.unhealthyAfterMs;
    const address = http.address;
    this.http = new HttpServer({
      listen: http.listen,
      status: new StatusPage({
        snapshot: () => this.withConfigVersion(this.options.gateway.status(packageVersion())),
        token: http.token,
        requireToken: !isLoopbackHost(address?.host),
        assetsDir: path.join(packageRoot(), 'web', 'status'),
      }),
      registry: this.options.gateway.metrics.registry,
      health: () => {
        const report = this.options.gateway.health(grace);
        const config = this.options.configVersion?.();
        // Informational: a version on trial is not a fault (a failing trial rolls back by itself).
        return config ? { ...report, checks: { ...report.checks, config: { ok: true, detail: `version ${config.version} (${config.state})` } } } : report;
      },
      logger: this.options.logger.child({ component: 'http' }),
    });
    await this.http.start();
  }

  /** The status page names the remote-config version in force instead of the fingerprint, when there is one. */
  private withConfigVersion(snapshot: StatusSnapshot): StatusSnapshot {
    const config = this.options.configVersion?.();
    return config ? { ...snapshot, config: { ...snapshot.config, version: config.version } } : snapshot;
  }

  private longestIntervalMs(): number {
    return this.site.devices.reduce((max, d) => Math.max(max, d.intervalMs), 1000);
  }

  private statusLine(): string {
    const g = this.options.gateway;
    const stats = g.journalStats;
    return `${g.isConnected ? 'connected' : 'disconnected'}; backlog ${stats?.depth ?? 0} messages`;
  }
}
