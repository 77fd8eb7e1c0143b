// Feeds systemd's watchdog only while the gateway makes progress. A ping on a bare timer would prove
// no more than that the event loop turns; a gateway whose scheduler stopped, whose journal refuses
// writes or whose uplink is wedged would be fed for ever. Here every ping is conditional on a probe
// the composition root supplies (scheduler ticked, journal accepted writes, forwarder not stuck), and
// when the probe says no, pings are withheld so systemd kills and restarts the service after
// WatchdogSec= — a restart being the one remedy a headless gateway can apply to itself.
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import { FieldgateError, errorText } from '../util/errors.js';
import { MAX_TIMER_MS } from '../util/long-timer.js';

export interface ProgressReport {
  ok: boolean;
  /** Why the gateway is not making progress (logged; ignored when ok). */
  reason?: string;
}

/** What the watchdog needs from SdNotify; a fake in tests. */
export interface WatchdogNotifier {
  watchdog(): void;
}

export interface WatchdogOptions {
  notify: WatchdogNotifier;
  /** The unit's WatchdogSec= in ms (SdNotify.watchdogPeriodMs). */
  periodMs: number;
  /** Asked before every ping; must be cheap and must not throw (a throw counts as no progress). */
  progress: () => ProgressReport;
  logger: Logger;
  /** For the stall duration in the recovery log line; defaults to Date.now. */
  clock?: Clock;
  /**
   * Checks per period. Three leaves room for one late or failed check (a long SQLite commit, a GC
   * pause) before systemd gives up, while a real stall is still acted on within one period.
   */
  checksPerPeriod?: number;
}

export type WatchdogState = 'idle' | 'progressing' | 'stalled';

export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private state: WatchdogState = 'idle';
  private stalledSince = 0;

  constructor(private readonly options: WatchdogOptions) {}

  get current(): WatchdogState {
    return this.state;
  }

  /** Interval between checks (and pings, while the gateway progresses), ms. */
  get intervalMs(): number {
    const checks = this.options.checksPerPeriod ?? 3;
    // A period beyond a timer's 24.8 days (WATCHDOG_USEC is the environment's) would make
    // setInterval fire every millisecond; checking more often than needed is harmless.
    return Math.min(MAX_TIMER_MS, Math.max(1, Math.floor(this.options.periodMs / checks)));
  }

  /** Checks once now (so the first ping does not wait a whole interval), then on every interval. */
  start(): void {
    if (this.timer !== undefined) return;
    const { periodMs, checksPerPeriod = 3 } = this.options;
    if (!Number.isFinite(periodMs) || periodMs <= 0) {
      throw new FieldgateError('watchdog_period', `watchdog period must be a positive number of ms, got ${periodMs}`);
    }
    if (!Number.isInteger(checksPerPeriod) || checksPerPeriod < 2) {
      throw new FieldgateError('watchdog_period', `watchdog needs at least 2 checks per period, got ${checksPerPeriod}`);
    }
    this.check();
    this.timer = setInterval(() => this.check(), this.intervalMs);
    // The watchdog must never be what keeps a stopping process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.state = 'idle';
  }

  private now(): number {
    return this.options.clock?.now() ?? Date.now();
  }

  /** One evaluation: pings when the probe reports progress. Returns whether it pinged. */
  check(): boolean {
    let report: ProgressReport;
    try {
      report = this.options.progress();
    } catch (err) {
      report = { ok: false, reason: `progress probe failed: ${errorText(err)}` };
    }
    if (report.ok) {
      if (this.state === 'stalled') {
        this.options.logger.info(
          { stalledForMs: this.now() - this.stalledSince },
          'gateway makes progress again; resuming watchdog pings',
        );
      }
      this.state = 'progressing';
      this.options.notify.watchdog();
      return true;
    }
    if (this.state !== 'stalled') {
      this.state = 'stalled';
      this.stalledSince = this.now();
      this.options.logger.error(
        { reason: report.reason ?? 'unknown', watchdogMs: this.options.periodMs },
        'gateway is not making progress; withholding watchdog pings so systemd restarts it unless it recovers',
      );
    }
    return false;
  }
}
