// Fixed-cadence polling: ticks are due at start + k × interval. A poll that overruns skips the
// ticks it missed instead of queueing them, so a slow device never builds a backlog of polls and
// never stops being polled.
import type { Clock } from '../driver-api/index.js';
import { MAX_TIMER_MS, setLongTimeout, type LongTimer } from '../util/long-timer.js';

export interface PollLoopOptions {
  intervalMs: number;
  clock: Clock;
  run: () => Promise<void>;
  /** Called after each run with how many ticks were skipped because the run overran. */
  onTick?: (skipped: number) => void;
}

export class PollLoop {
  private timer: NodeJS.Timeout | LongTimer | undefined;
  private current: Promise<void> | undefined;
  // Made once: a poll loop arms a timer and settles a run every poll, up to a hundred times a second.
  private readonly fire = (): void => this.tick();
  private readonly settled = (): void => this.after();
  private nextDue = 0;
  private stopped = true;

  constructor(private readonly options: PollLoopOptions) {}

  start(): void {
    this.stopped = false;
    this.nextDue = this.options.clock.now();
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined && 'clear' in this.timer) this.timer.clear();
    else clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  private arm(): void {
    if (this.stopped) return;
    const delay = Math.max(0, this.nextDue - this.options.clock.now());
    // Intervals may be days long (up to 366d); beyond 24.8 days a plain setTimeout would fire
    // after 1 ms. Shorter ones, every poll of every device, need no chain.
    this.timer = delay <= MAX_TIMER_MS ? setTimeout(this.fire, delay) : setLongTimeout(this.fire, delay);
  }

  private tick(): void {
    this.timer = undefined;
    this.current = this.options.run().then(this.settled, this.settled);
  }

  private after(): void {
    this.current = undefined;
    const { intervalMs, clock } = this.options;
    const now = clock.now();
    this.nextDue += intervalMs;
    let skipped = 0;
    if (this.nextDue < now) {
      skipped = Math.floor((now - this.nextDue) / intervalMs) + 1;
      this.nextDue += skipped * intervalMs;
    }
    this.options.onTick?.(skipped);
    this.arm();
  }
}
