// Events per second over a sliding window of whole seconds (delivery rate for the status page).
// A fixed ring of per-second counts: constant memory, whatever the rate.
export class RateMeter {
  private readonly counts: number[];
  private readonly seconds: number[];

  constructor(private readonly windowSeconds = 10) {
    this.counts = new Array<number>(windowSeconds).fill(0);
    this.seconds = new Array<number>(windowSeconds).fill(-1);
  }

  add(n: number, now: number): void {
    const second = Math.floor(now / 1000);
    const slot = second % this.windowSeconds;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot]! += n;
  }

  /** Average per second over the last `windowSeconds` complete and current seconds. */
  perSecond(now: number): number {
    const second = Math.floor(now / 1000);
    let sum = 0;
    for (let i = 0; i < this.windowSeconds; i += 1) {
      if (this.seconds[i]! > second - this.windowSeconds) sum += this.counts[i]!;
    }
    return sum / this.windowSeconds;
  }
}
