// When to try the broker again. Two kinds of failure, two paces:
// - the attempt never got a TCP connection (refused: broker process down; no route; DNS). That
//   cost about one SYN and one RST, and the broker cannot be loaded by it: retry every
//   `refusedMs` (jittered, half of it to all of it), so a returning broker is used within ~1 s;
// - the attempt reached the broker and failed there (TLS, CONNACK refusal, connection lost):
//   jittered exponential backoff up to its cap, so a fleet cannot hammer a broker that accepts
//   connections but cannot serve them.
import { Backoff, type BackoffOptions } from '../util/backoff.js';

export class RetryPace {
  private readonly backoff: Backoff;
  private readonly refused: Backoff;

  constructor(backoff: BackoffOptions | undefined, refusedMs: number) {
    this.backoff = new Backoff({ initialMs: 1000, maxMs: 30_000, ...backoff });
    this.refused = new Backoff({ initialMs: refusedMs, maxMs: refusedMs, random: backoff?.random });
  }

  /** Delay before the next attempt, ms. Backoff grows either way, so a broker that starts refusing after failing keeps its pace. */
  next(reachedBroker: boolean): number {
    const backoffMs = this.backoff.next();
    return reachedBroker ? backoffMs : Math.min(backoffMs, this.refused.next());
  }

  /** After a connection proved stable (not on a bare CONNACK: see stability-watch.ts). */
  reset(): void {
    this.backoff.reset();
  }

  /** Attempts since the last reset. */
  get attempts(): number {
    return this.backoff.attempts;
  }
}
