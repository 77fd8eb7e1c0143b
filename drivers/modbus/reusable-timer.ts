// One Timeout re-armed for every request instead of a new one each time: on a line polled every
// few milliseconds the allocation and the list insertion of a fresh timer are measurable. The
// timer is not cleared when a request ends early (a cleared Timeout cannot be refreshed), so the
// callback must do nothing when it finds nothing due.
export class ReusableTimer {
  private timer: NodeJS.Timeout | undefined;
  private ms = -1;

  constructor(private readonly onFire: () => void) {}

  /** Fires `ms` from now, replacing whatever was armed before. */
  start(ms: number): void {
    if (this.timer && ms === this.ms) {
      this.timer.refresh();
      return;
    }
    clearTimeout(this.timer);
    this.ms = ms;
    // Whatever the timer guards (a socket, a serial port) keeps the process alive by itself.
    this.timer = setTimeout(this.onFire, ms).unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
