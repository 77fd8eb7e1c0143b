// Publishes Home Assistant discovery over one uplink: on every connection, whenever Home Assistant
// announces itself (`online` on <prefix>/status, its birth message), and after a reload (with the
// removals first). Also keeps each device's retained availability topic in step with its health.
// Messages go straight to the uplink, not through the journal: they describe the present state,
// and are sent again on the next connection when one is lost.
import type { Logger } from 'pino';
import type { Uplink } from '../uplink/uplink.js';
import { errorText } from '../util/errors.js';
import { deviceAvailabilityTopic, discoveryMessages, OFFLINE, ONLINE, type DiscoveryMessage, type DiscoveryPlan } from './discovery.js';

export interface AnnouncerOptions {
  uplink: Uplink;
  logger: Logger;
  statusTopic: string;
  /** The plan in force and each device's health, read at the moment of announcing. */
  plan: () => DiscoveryPlan | undefined;
  health: () => ReadonlyArray<readonly [device: string, healthy: boolean]>;
}

export class HomeAssistantAnnouncer {
  private subscribedPrefix: string | undefined;

  constructor(private readonly options: AnnouncerOptions) {}

  /** Announces on every connection from now on, and whenever Home Assistant comes online. */
  start(): void {
    this.options.uplink.on('connect', () => this.announce());
    this.listen();
  }

  /** Every discovery message of the plan in force, and every device's availability. */
  announce(): void {
    const plan = this.options.plan();
    if (!plan || !this.options.uplink.connected) return;
    this.listen();
    this.send(discoveryMessages(plan));
    for (const [device, healthy] of this.options.health()) this.deviceHealth(device, healthy);
  }

  /** Messages that must precede the next announcement (removals after a reload). */
  send(messages: readonly DiscoveryMessage[]): void {
    const uplink = this.options.uplink;
    if (!uplink.connected) return;
    for (const m of messages) {
      uplink.publish({ topic: m.topic, payload: Buffer.from(m.payload), qos: 1, retain: true }, (err) => {
        if (err) this.options.logger.debug({ topic: m.topic, err: errorText(err) }, 'discovery message not acknowledged; sent again on the next connection');
      });
    }
  }

  deviceHealth(device: string, healthy: boolean): void {
    if (!this.options.plan()) return;
    this.send([{ topic: deviceAvailabilityTopic(this.options.statusTopic, device), payload: healthy ? ONLINE : OFFLINE }]);
  }

  /** A removed device's availability topic is cleared, so no stale retained state remains. */
  forget(device: string): void {
    this.send([{ topic: deviceAvailabilityTopic(this.options.statusTopic, device), payload: '' }]);
  }

  private listen(): void {
    const prefix = this.options.plan()?.prefix;
    if (prefix === undefined || prefix === this.subscribedPrefix) return;
    this.subscribedPrefix = prefix;
    this.options.uplink.subscribe(`${prefix}/status`, 1, (_topic, payload) => {
      // The birth message: Home Assistant (re)started and may have lost what it knew.
      if (payload.toString().trim() === ONLINE && this.options.plan()?.prefix === prefix) this.announce();
    });
  }
}
