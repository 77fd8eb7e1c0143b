// buffer.keep_delivered: acknowledged rows stay in the journal, marked delivered, so a consumer
// that lost them downstream can ask for them again (replay). The rules both journals follow:
// - Delivered rows share max_messages/max_bytes with the backlog, and undelivered rows always
//   win: when room is needed the oldest delivered rows go first, and that is not a drop.
//   drop_newest refuses an entry only if the undelivered rows alone leave no room for it.
// - Expiry walks the delivered rows in seq order and deletes those delivered at least `keepMs`
//   ago, up to the first one that is younger. So a row is kept at least keepMs (capacity
//   permitting); a row acknowledged out of order may outlive it by a little. It runs at open and
//   then at most every EXPIRY_CHECK_MS, from remove(), so it costs the hot path nothing.
// - Off (keepMs 0): remove() deletes as it always did, and open() deletes whatever delivered rows
//   an earlier run with the setting on left behind.

/** How often remove() looks for delivered rows to expire. */
export const EXPIRY_CHECK_MS = 60_000;

export class ExpirySchedule {
  private lastRun = Number.NEGATIVE_INFINITY;

  constructor(private readonly keepMs: number) {}

  get enabled(): boolean {
    return this.keepMs > 0;
  }

  /** Rows delivered at or before this time may go; undefined while no run is due (force: at open). */
  cutoff(now: number, force = false): number | undefined {
    if (!force && (this.keepMs <= 0 || now - this.lastRun < EXPIRY_CHECK_MS)) return undefined;
    this.lastRun = now;
    return this.keepMs > 0 ? now - this.keepMs : Number.POSITIVE_INFINITY;
  }
}
