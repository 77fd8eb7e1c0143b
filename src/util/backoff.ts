// Jittered exponential backoff ("full jitter" on the upper half): retries spread out across a
// fleet after a shared outage instead of reconnecting in lock-step.
export interface BackoffOptions {
  /** First delay upper bound, ms. */
  initialMs?: number;
  /** Cap, ms. */
  maxMs?: number;
  factor?: number;
  /** Injected for deterministic tests; returns [0, 1). */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1000;
    this.maxMs = options.maxMs ?? 30_000;
    this.factor = options.factor ?? 2;
    this.random = options.random ?? Math.random;
  }

  /** Delay before the next attempt: uniformly in [ceiling/2, ceiling], ceiling doubling to maxMs. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt += 1;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
