// The uplink's subscriptions. They are kept for the uplink's life and sent again on every
// connection (each connection starts a clean session), and every incoming message goes to each
// handler whose filter matches; a handler that throws is logged and the others still run.
import type { Logger } from 'pino';
import type { Qos } from '../journal/journal.js';
import { FieldgateError, errorText } from '../util/errors.js';
import type { Link } from './link.js';
import { filterProblem, topicMatches } from './topic-filter.js';
import type { MessageHandler } from './uplink.js';

export interface Subscription {
  filter: string;
  qos: Qos;
  handler: MessageHandler;
}

export class Subscriptions {
  private readonly list: Subscription[] = [];

  constructor(private readonly logger: Logger) {}

  /** Adds a subscription (throws on an invalid filter) and returns it. */
  add(filter: string, qos: Qos, handler: MessageHandler): Subscription {
    const problem = filterProblem(filter);
    if (problem !== undefined) {
      throw new FieldgateError('uplink_filter', `invalid MQTT topic filter "${filter}": ${problem}`);
    }
    const sub = { filter, qos, handler };
    this.list.push(sub);
    return sub;
  }

  /** Sends SUBSCRIBE on `link` for `subs` (default: all), one request, the highest QoS per filter. */
  send(link: Link, subs: readonly Subscription[] = this.list): void {
    if (subs.length === 0) return;
    const request: Record<string, { qos: Qos }> = {};
    for (const s of subs) request[s.filter] = { qos: Math.max(s.qos, request[s.filter]?.qos ?? 0) as Qos };
    link.client.subscribe(request, (err, granted) => {
      if (link.closed) return;
      if (err) {
        this.logger.warn({ err: err.message, filters: Object.keys(request) }, 'uplink subscribe failed');
        return;
      }
      for (const g of granted ?? []) {
        if (g.qos > 2) this.logger.warn({ filter: g.topic }, 'uplink subscription refused by broker');
      }
    });
  }

  dispatch(topic: string, payload: Buffer, retain: boolean): void {
    const meta = { retain };
    for (const sub of this.list) {
      if (!topicMatches(sub.filter, topic)) continue;
      try {
        sub.handler(topic, payload, meta);
      } catch (err) {
        this.logger.error({ topic, filter: sub.filter, err: errorText(err) }, 'uplink message handler threw');
      }
    }
  }
}
