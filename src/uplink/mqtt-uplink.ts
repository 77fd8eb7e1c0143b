// The MQTT connection to the upstream broker, on top of mqtt.js.
//
// Design rules:
// - Reconnecting is ours, not mqtt.js's (reconnectPeriod 0): every attempt is a fresh mqtt.js
//   client on the next URL in turn, spaced by a jittered Backoff that resets after a CONNACK.
// - Nothing is queued here. publish() while disconnected fails at once, and a connection loss
//   fails every publish still waiting for its PUBACK/PUBCOMP. The old client is discarded, so
//   mqtt.js can never resend those on a later connection: the forwarder resends them from the
//   journal, which is the only durable store.
// - Each publish's `done` is called exactly once. A per-connection map of pending callbacks is
//   the single source of truth: whoever removes an entry (ack, error or connection loss) calls it.
// - Status: LWT `offline` retained; `online` retained (QoS 1) is acknowledged before 'connect' is
//   emitted, so it precedes any data; stop() publishes `offline` and disconnects cleanly.
// - Retry pace (retry-pace.ts): attempts that never got a TCP connection are retried every
//   `refusedRetryMs`; attempts that failed at the broker back off to 30 s.
// - MQTT 5: topic aliases and the broker's Maximum Packet Size, per connection (mqtt5-publish.ts).
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type IClientPublishOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import type { Qos } from '../journal/journal.js';
import { RetryPace } from './retry-pace.js';
import { FieldgateError, errorText } from '../util/errors.js';
import { errorHint } from './error-hint.js';
import { redactUrl } from './redact-url.js';
import { filterProblem, topicMatches } from './topic-filter.js';
import type { MessageHandler, OutgoingMessage, Uplink, UplinkEvents } from './uplink.js';
import { Mqtt5Publisher } from './mqtt5-publish.js';
import type { MqttUplinkOptions } from './uplink-options.js';

export type { MqttUplinkOptions, UplinkStatusOptions, UplinkTlsOptions } from './uplink-options.js';

type Done = (err?: Error) => void;

interface Subscription {
  filter: string;
  qos: Qos;
  handler: MessageHandler;
}

// mqtt.js copies the options object on every publish; sharing these avoids one more allocation.
const PUBLISH_OPTIONS = [0, 1, 2].map((qos) => [
  Object.freeze({ qos: qos as Qos, retain: false }),
  Object.freeze({ qos: qos as Qos, retain: true }),
]);

/** One network connection (attempt): its mqtt.js client and the publishes awaiting their ack. */
class Link {
  readonly pending = new Map<number, Done>();
  nextToken = 0;
  connackReceived = false;
  /** publish() is allowed (online status acknowledged, not stopping). */
  accepting = false;
  /** 'connect' was emitted, so 'disconnect' must follow. */
  announced = false;
  closed = false;
  lastError: Error | undefined;
  /** A TCP connection was made: a failure after this point is the broker's, not the network's. */
  reachedBroker = false;
  /** MQTT 5 only, from CONNACK: topic aliases and the broker's packet size limit. */
  v5: Mqtt5Publisher | undefined;

  constructor(
    readonly url: string,
    readonly client: MqttClient,
  ) {}
}

export class MqttUplink extends EventEmitter<UplinkEvents> implements Uplink {
  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  private link: Link | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private urlIndex = 0;
  private readonly pace: RetryPace;
  private lastErrorText = '';
  private readonly subscriptions: Subscription[] = [];
  private attempts = 0;
  private connects = 0;
  private lastDownAt: number | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: MqttUplinkOptions) {
    super();
    this.pace = new RetryPace(options.backoff, options.refusedRetryMs ?? 1000);
  }

  get maxPacketSize(): number | undefined {
    return this.link?.v5?.maxPacketSize;
  }

  get connected(): boolean {
    return this.link?.accepting === true;
  }

  /** Connection attempts made so far (each URL tried counts once). */
  get connectAttempts(): number {
    return this.attempts;
  }

  /** Connection attempts after the first one (retries after a failure or a loss). */
  get reconnectAttempts(): number {
    return Math.max(0, this.attempts - 1);
  }

  /** Successful connections after the first one. */
  get reconnects(): number {
    return Math.max(0, this.connects - 1);
  }

  /** Publishes sent on the current connection and not yet acknowledged. */
  get inFlight(): number {
    return this.link?.pending.size ?? 0;
  }

  start(): void {
    if (this.state !== 'idle') throw new FieldgateError('uplink_state', `uplink cannot start when ${this.state}`);
    if (this.options.urls.length === 0) throw new FieldgateError('uplink_config', 'uplink has no broker URLs');
    this.state = 'running';
    this.openLink();
  }

  publish(message: OutgoingMessage, done: Done): void {
    const link = this.link;
    if (link === undefined || !link.accepting) {
      // Asynchronous like every other outcome, so callers never see re-entrant callbacks.
      process.nextTick(done, new FieldgateError('uplink_not_connected', 'MQTT uplink is not connected', { kind: 'retryable' }));
      return;
    }
    let topic = message.topic;
    let options: IClientPublishOptions = PUBLISH_OPTIONS[message.qos]![message.retain ? 1 : 0]!;
    if (link.v5) {
      const plan = link.v5.plan(message);
      if (plan.tooLarge) {
        const limit = link.v5.maxPacketSize;
        process.nextTick(
          done,
          new FieldgateError('uplink_packet_too_large', `publish of ${plan.size} bytes exceeds the broker's maximum packet size ${limit}`),
        );
        return;
      }
      plan.commit();
      topic = plan.topic;
      if (plan.properties) options = { ...options, properties: plan.properties };
    }
    const token = link.nextToken++;
    link.pending.set(token, done);
    link.client.publish(
      topic,
      message.payload,
      options,
      (err?: Error | null) => {
        // Only a broker refusal carries a numeric reason code; any other error means mqtt.js is
        // tearing the connection down (keepalive timeout flushes callbacks before 'close').
        if (err && typeof (err as { code?: unknown }).code !== 'number') this.connectionFailing(link, err);
        else if (link.pending.delete(token)) this.callDone(done, err ?? undefined);
      },
    );
  }

  subscribe(filter: string, qos: Qos, handler: MessageHandler): void {
    const problem = filterProblem(filter);
    if (problem !== undefined) {
      throw new FieldgateError('uplink_filter', `invalid MQTT topic filter "${filter}": ${problem}`);
    }
    this.subscriptions.push({ filter, qos, handler });
    const link = this.link;
    if (link !== undefined && link.connackReceived && !link.closed) this.sendSubscribe(link, [{ filter, qos, handler }]);
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.state !== 'running') {
      this.state = 'stopped';
      return Promise.resolve();
    }
    this.state = 'stopping';
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.stopping = this.shutdown(this.link).finally(() => {
      this.state = 'stopped';
    });
    return this.stopping;
  }

  private openLink(): void {
    const url = this.options.urls[this.urlIndex % this.options.urls.length]!;
    this.urlIndex += 1;
    this.attempts += 1;
    if (this.attempts > 1) this.options.onReconnectAttempt?.();
    let client: MqttClient;
    try {
      client = mqtt.connect(url, this.clientOptions());
    } catch (err) {
      this.options.logger.error({ url: redactUrl(url), err: errorText(err) }, 'uplink cannot connect to this URL');
      this.scheduleRetry(true);
      return;
    }
    const link = new Link(url, client);
    this.link = link;
    // Plain TCP emits 'connect'; TLS emits it too, before 'secureConnect'.
    client.stream?.once('connect', () => {
      link.reachedBroker = true;
    });
    this.options.logger.debug({ url: redactUrl(url), attempt: this.attempts }, 'uplink connecting');
    client.on('connect', (connack) => this.onConnack(link, connack));
    client.on('message', (topic, payload, packet) => {
      if (!link.closed) this.dispatch(topic, payload, packet.retain);
    });
    client.on('error', (err) => this.onClientError(link, err));
    client.on('disconnect', (packet) => {
      link.lastError = new Error(`broker sent DISCONNECT (reason code ${packet.reasonCode ?? 0})`);
    });
    client.on('close', () => this.closeLink(link));
  }

  private clientOptions(): IClientOptions {
    const o = this.options;
    const options: IClientOptions = {
      clientId: o.clientId,
      protocolVersion: o.protocolVersion,
      clean: true,
      keepalive: Math.ceil(o.keepaliveMs / 1000),
      connectTimeout: o.connectTimeoutMs,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      rejectUnauthorized: true,
      // mqtt-packet would otherwise pre-build a Buffer for every packet id (65,536 of them, ~6 MB
      // of heap held for the life of the process): a fifth of the gateway's heap on a Pi.
      writeCache: false,
    };
    if (o.username !== undefined) options.username = o.username;
    if (o.password !== undefined) options.password = o.password;
    if (o.tls?.ca) options.ca = o.tls.ca;
    if (o.tls?.cert) options.cert = o.tls.cert;
    if (o.tls?.key) options.key = o.tls.key;
    if (o.tls?.servername) options.servername = o.tls.servername;
    if (o.status) {
      options.will = { topic: o.status.topic, payload: Buffer.from(o.status.offline), qos: 1, retain: true };
    }
    return options;
  }

  private onConnack(link: Link, connack: IConnackPacket): void {
    if (link !== this.link || link.closed || this.state !== 'running') return;
    link.connackReceived = true;
    this.pace.reset();
    this.lastErrorText = '';
    if (this.options.protocolVersion === 5) {
      link.v5 = new Mqtt5Publisher(connack.properties?.topicAliasMaximum ?? 0, connack.properties?.maximumPacketSize);
    }
    if (this.subscriptions.length > 0) this.sendSubscribe(link, this.subscriptions);
    const status = this.options.status;
    if (status === undefined) {
      this.announce(link, connack);
      return;
    }
    link.client.publish(status.topic, status.online, { qos: 1, retain: true }, (err) => {
      // A connection loss also lands here (an error without reason code); closeLink() follows.
      if (link.closed || !link.client.connected || (err && typeof (err as { code?: unknown }).code !== 'number')) {
        return;
      }
      if (err) this.options.logger.warn({ topic: status.topic, err: errorText(err) }, 'uplink online status refused');
      this.announce(link, connack);
    });
  }

  private announce(link: Link, connack: IConnackPacket): void {
    if (link.closed || this.state !== 'running') return;
    link.accepting = true;
    link.announced = true;
    this.connects += 1;
    const now = this.options.clock.now();
    this.options.logger.info(
      {
        url: redactUrl(link.url),
        protocol: this.options.protocolVersion === 5 ? 'mqtt5' : 'mqtt3.1.1',
        sessionPresent: connack.sessionPresent,
        attempts: this.attempts,
        downMs: this.lastDownAt === undefined ? undefined : now - this.lastDownAt,
      },
      'uplink connected',
    );
    this.emit('connect', { url: link.url, sessionPresent: connack.sessionPresent });
  }

  private onClientError(link: Link, err: Error): void {
    link.lastError = err;
    if (link.closed) return;
    const code = (err as { code?: unknown }).code;
    // Quick retries against a refusing broker would repeat the same warning every second.
    const text = `${redactUrl(link.url)} ${err.message}`;
    const level = text === this.lastErrorText ? 'debug' : 'warn';
    this.lastErrorText = text;
    this.options.logger[level](
      { url: redactUrl(link.url), err: err.message, code, hint: errorHint(err) },
      'uplink connection error',
    );
  }

  /** Ends a connection for good: fails its pending publishes, discards the client, plans a retry. */
  private closeLink(link: Link): void {
    if (link.closed) return;
    link.closed = true;
    link.accepting = false;
    const reason = this.state === 'running' ? (link.lastError?.message ?? 'connection closed') : 'stopped';
    if (this.link === link) this.link = undefined;
    this.failPending(link, reason);
    // Our listeners stay attached (they all check link.closed): mqtt.js needs its own 'close'
    // handling to clear its timers, and an 'error' listener so a late error cannot crash us.
    link.client.end(true);
    // end() is a no-op while a graceful end is under way (stop() on a hung broker): cut it here.
    link.client.stream?.destroy();
    if (link.announced) {
      this.lastDownAt = this.options.clock.now();
      // A stop we asked for is routine; anything else is an outage worth a warning.
      const level = reason === 'stopped' ? 'info' : 'warn';
      this.options.logger[level]({ url: redactUrl(link.url), reason }, 'uplink disconnected');
    } else if (link.lastError === undefined && this.state === 'running') {
      this.options.logger.warn({ url: redactUrl(link.url), reason }, 'uplink connection attempt failed');
    }
    // Retry planned before listeners run, so a throwing listener cannot leave us disconnected.
    if (this.state === 'running') this.scheduleRetry(link.reachedBroker);
    if (link.announced) this.emit('disconnect', { reason });
  }

  private connectionFailing(link: Link, err: Error): void {
    link.accepting = false;
    this.failPending(link, link.lastError?.message ?? err.message);
  }

  private failPending(link: Link, reason: string): void {
    if (link.pending.size === 0) return;
    const err = new FieldgateError('uplink_connection_lost', `MQTT connection lost before acknowledgement: ${reason}`, {
      kind: 'retryable',
      cause: link.lastError,
    });
    // Taken out of the map first: a callback that publishes again must not see these entries.
    const callbacks = [...link.pending.values()];
    link.pending.clear();
    for (const done of callbacks) this.callDone(done, err);
  }

  private callDone(done: Done, err: Error | undefined): void {
    try {
      done(err);
    } catch (thrown) {
      this.options.logger.error({ err: errorText(thrown) }, 'uplink publish callback threw');
    }
  }

  private scheduleRetry(reachedBroker: boolean): void {
    const delayMs = this.pace.next(reachedBroker);
    const nextUrl = this.options.urls[this.urlIndex % this.options.urls.length]!;
    // Quick retries against a refusing broker would log every second: the first one is enough.
    const level = reachedBroker || this.pace.attempts <= 1 ? 'info' : 'debug';
    this.options.logger[level]({ delayMs, url: redactUrl(nextUrl), retry: this.pace.attempts }, 'uplink reconnect scheduled');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state === 'running') this.openLink();
    }, delayMs);
  }

  private sendSubscribe(link: Link, subs: readonly Subscription[]): void {
    const request: Record<string, { qos: Qos }> = {};
    for (const s of subs) request[s.filter] = { qos: Math.max(s.qos, request[s.filter]?.qos ?? 0) as Qos };
    link.client.subscribe(request, (err, granted) => {
      if (link.closed) return;
      if (err) {
        this.options.logger.warn({ err: err.message, filters: Object.keys(request) }, 'uplink subscribe failed');
        return;
      }
      for (const g of granted ?? []) {
        if (g.qos > 2) this.options.logger.warn({ filter: g.topic }, 'uplink subscription refused by broker');
      }
    });
  }

  private dispatch(topic: string, payload: Buffer, retain: boolean): void {
    const meta = { retain };
    for (const sub of this.subscriptions) {
      if (!topicMatches(sub.filter, topic)) continue;
      try {
        sub.handler(topic, payload, meta);
      } catch (err) {
        this.options.logger.error({ topic, filter: sub.filter, err: errorText(err) }, 'uplink message handler threw');
      }
    }
  }

  private async shutdown(link: Link | undefined): Promise<void> {
    if (link !== undefined && !link.closed) await this.closeGracefully(link);
    this.options.logger.info({}, 'uplink stopped');
  }

  private async closeGracefully(link: Link): Promise<void> {
    link.accepting = false;
    const bound = this.options.stopTimeoutMs ?? 2000;
    const status = this.options.status;
    if (link.client.connected) {
      if (status !== undefined) {
        const acked = await withTimeout(bound, (cb) =>
          link.client.publish(status.topic, status.offline, { qos: 1, retain: true }, cb),
        );
        if (!acked) this.options.logger.warn({ topic: status.topic }, 'uplink offline status not acknowledged in time');
      }
      // A clean DISCONNECT tells the broker to drop the LWT (we already said offline).
      await withTimeout(bound, (cb) => link.client.end(false, {}, cb));
    }
    this.closeLink(link);
  }
}

/** Runs `start` and resolves true if it calls back without error within `ms`, false otherwise. */
function withTimeout(ms: number, start: (cb: (err?: Error | null) => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    start((err) => {
      clearTimeout(timer);
      resolve(!err);
    });
  });
}
