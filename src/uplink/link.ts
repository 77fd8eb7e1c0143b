// One connection attempt: its mqtt.js client, its state (link-state.ts) and the publishes sent on
// it that await their acknowledgement.
//
// Each publish's `done` is called exactly once. The pending map is the single source of truth:
// whoever takes an entry out (its ack, its error, or the connection's end) calls it; a callback
// mqtt.js delivers for an entry that is gone already is dropped.
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { FieldgateError, errorText } from '../util/errors.js';
import { type LinkState, connecting } from './link-state.js';
import type { StabilityWatch } from './stability-watch.js';

export type Done = (err?: Error) => void;

export class Link {
  state: LinkState = connecting;
  /** The last error mqtt.js reported on this connection: the reason given when it ends. */
  lastError: Error | undefined;
  private readonly pending = new Map<number, Done>();
  private nextToken = 0;

  constructor(
    readonly url: string,
    readonly client: MqttClient,
    readonly stability: StabilityWatch,
    private readonly logger: Logger,
  ) {}

  get closed(): boolean {
    return this.state.phase === 'closed';
  }

  /** Publishes sent on this connection and not yet acknowledged. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Registers a publish's callback; settle() with the returned token calls it. */
  track(done: Done): number {
    const token = this.nextToken++;
    this.pending.set(token, done);
    return token;
  }

  /** The outcome of one publish; ignored if the publish was already failed with the connection. */
  settle(token: number, err: Error | undefined): void {
    const done = this.pending.get(token);
    if (done === undefined) return;
    this.pending.delete(token);
    this.call(done, err);
  }

  /** Fails every publish still waiting: the connection will not bring their acknowledgements. */
  failAll(reason: string): void {
    if (this.pending.size === 0) return;
    const err = new FieldgateError('uplink_connection_lost', `MQTT connection lost before acknowledgement: ${reason}`, {
      kind: 'retryable',
      cause: this.lastError,
    });
    // Taken out of the map first: a callback that publishes again must not see these entries.
    const callbacks = [...this.pending.values()];
    this.pending.clear();
    for (const done of callbacks) this.call(done, err);
  }

  private call(done: Done, err: Error | undefined): void {
    try {
      done(err);
    } catch (thrown) {
      this.logger.error({ err: errorText(thrown) }, 'uplink publish callback threw');
    }
  }
}
