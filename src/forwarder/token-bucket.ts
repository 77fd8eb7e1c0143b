// buffer.replay_rate as a token bucket, counted in journal rows: it refills at `ratePerSecond`
// and holds at most one second's worth, so a drain may start with a burst of that size and then
// runs at the rate. A pack takes as many tokens as it carries rows, and may take the bucket below
// zero: it goes out whole (splitting it would cost more bytes than the rate saves), and the next
// publish waits until the debt is paid.
import type { Clock } from '../driver-api/index.js';

export class TokenBucket {
  private tokens = 0;
  /** When `tokens` was last brought up to date; 0 makes the bucket start full. */
  private at = 0;

  /** ratePerSecond <= 0: unlimited, every take succeeds. */
  constructor(
    private readonly ratePerSecond: number,
    private readonly clock: Clock,
  ) {}

  /**
   * Takes `rows` tokens if at least one is there and returns 0; otherwise takes nothing and
   * returns the milliseconds until one will be.
   */
  take(rows: number): number {
    const rate = this.ratePerSecond;
    if (rate <= 0) return 0;
    const now = this.clock.now();
    this.tokens = Math.min(rate, this.tokens + ((now - this.at) * rate) / 1000);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= rows;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / rate));
  }
}
