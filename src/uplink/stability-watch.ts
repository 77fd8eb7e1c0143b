// When a connection has earned a reset of the reconnect backoff. A CONNACK proves little: a broker
// in a restart loop, or a proxy that cuts sessions, accepts a client and drops it a moment later,
// and resetting on CONNACK turned that into one reconnect (and one retained online/offline pair)
// a second, for ever. A connection counts as stable once it has been up for `stableAfterMs` AND
// the broker has answered something after that (a PUBACK/PUBCOMP of data, a SUBACK, a PUBLISH, or
// at the latest the PINGRESP that keepalive brings): a connection that went silent after CONNACK
// never qualifies, however long keepalive takes to notice.

/** Default for MqttUplinkOptions.stableAfterMs; docs/operations.md describes it. */
export const STABLE_AFTER_MS = 30_000;

export class StabilityWatch {
  private timer: NodeJS.Timeout | undefined;
  private due = false;
  private settled = false;

  constructor(
    private readonly stableAfterMs: number,
    private readonly onStable: () => void,
  ) {}

  get stable(): boolean {
    return this.settled;
  }

  /** The connection is up: start the clock. */
  start(): void {
    if (this.timer !== undefined || this.settled) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.due = true;
    }, this.stableAfterMs);
  }

  /** A packet from the broker other than CONNACK arrived on this connection. */
  heard(): void {
    if (!this.due || this.settled) return;
    this.settled = true;
    this.onStable();
  }

  /** The connection ended: nothing more may be reported for it. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = false;
  }
}
