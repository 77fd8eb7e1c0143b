// The MQTT connection to the upstream broker, on top of mqtt.js.
//
// Design rules:
// - Reconnecting is ours, not mqtt.js's (reconnectPeriod 0): every attempt is a fresh mqtt.js
//   client on the next URL in turn, spaced by a jittered Backoff. The backoff resets only once a
//   connection has proved stable (stability-watch.ts), never on a bare CONNACK: a broker that
//   accepts and drops at once must not get a reconnect a second.
// - Nothing is queued here. publish() while disconnected fails at once, and a connection loss
//   fails every publish still waiting for its PUBACK/PUBCOMP. The old client is discarded, so
//   mqtt.js can never resend those on a later connection: the forwarder resends them from the
//   journal, which is the only durable store.
// - One connection attempt is a Link (link.ts): its client, its pending publishes (each `done`
//   called exactly once) and its LinkState (link-state.ts: connecting → announcing → open →
//   closing → closed, with the transitions spelled out there).
// - Status: LWT `offline` retained; `online` retained (QoS 1) is acknowledged before 'connect' is
//   emitted, so it precedes any data; stop() publishes `offline` and disconnects cleanly.
// - Retry pace (retry-pace.ts): attempts that never got a TCP connection are retried every
//   `refusedRetryMs`; attempts that failed at the broker, including connections dropped before
//   they proved stable, back off to 30 s.
// - MQTT 5: topic aliases and the broker's Maximum Packet Size, per connection (mqtt5-publish.ts).
import { EventEmitter } from 'node:events';
import mqtt, { type IClientPublishOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import type { Qos } from '../journal/journal.js';
import { RetryPace } from './retry-pace.js';
import { STABLE_AFTER_MS, StabilityWatch } from './stability-watch.js';
import { FieldgateError, errorText } from '../util/errors.js';
import { Link, type Done } from './link.js';
import {
  accepting, announced, announcedAt, closed, connackReceived, sessionOf, stopAccepting, tcpConnected,
} from './link-state.js';
import { errorHint } from './error-hint.js';
import { redactUrl } from './redact-url.js';
import { Subscriptions } from './subscriptions.js';
import type { MessageHandler, OutgoingMessage, Uplink, UplinkEvents } from './uplink.js';
import { Mqtt5Publisher } from './mqtt5-publish.js';
import { type MqttUplinkOptions, mqttClientOptions } from './uplink-options.js';

export type { MqttUplinkOptions, UplinkStatusOptions, UplinkTlsOptions } from './uplink-options.js';

// mqtt.js copies the options object on every publish; sharing these avoids one more allocation.
const PUBLISH_OPTIONS = [0, 1, 2].map((qos) => [
  Object.freeze({ qos: qos as Qos, retain: false }),
  Object.freeze({ qos: qos as Qos, retain: true }),
]);

export class MqttUplink extends EventEmitter<UplinkEvents> implements Uplink {
  /** The uplink's own life; each connection attempt's state is in its Link. */
  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  /** The current connection attempt; undefined between a close and the next attempt. */
  private link: Link | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private urlIndex = 0;
  private readonly pace: RetryPace;
  private lastErrorText = '';
  private readonly subscriptions: Subscriptions;
  private attempts = 0;
  private connects = 0;
  private lastDownAt: number | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: MqttUplinkOptions) {
    super();
    this.pace = new RetryPace(options.backoff, options.refusedRetryMs ?? 1000);
    this.subscriptions = new Subscriptions(options.logger);
  }

  get maxPacketSize(): number | undefined {
    return this.link && sessionOf(this.link.state)?.v5?.maxPacketSize;
  }

  get connected(): boolean {
    return this.link !== undefined && accepting(this.link.state);
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
    return this.link?.inFlight ?? 0;
  }

  start(): void {
    if (this.state !== 'idle') throw new FieldgateError('uplink_state', `uplink cannot start when ${this.state}`);
    if (this.options.urls.length === 0) throw new FieldgateError('uplink_config', 'uplink has no broker URLs');
    this.state = 'running';
    this.openLink();
  }

  publish(message: OutgoingMessage, done: Done): void {
    const link = this.link;
    if (link === undefined || !accepting(link.state)) {
      // Asynchronous like every other outcome, so callers never see re-entrant callbacks.
      process.nextTick(done, new FieldgateError('uplink_not_connected', 'MQTT uplink is not connected', { kind: 'retryable' }));
      return;
    }
    let topic = message.topic;
    let options: IClientPublishOptions = PUBLISH_OPTIONS[message.qos]![message.retain ? 1 : 0]!;
    const v5 = link.state.session.v5;
    if (v5) {
      const plan = v5.plan(message);
      if (plan.tooLarge) {
        const limit = v5.maxPacketSize;
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
    const token = link.track(done);
    link.client.publish(
      topic,
      message.payload,
      options,
      (err?: Error | null) => {
        // Only a broker refusal carries a numeric reason code; any other error means mqtt.js is
        // tearing the connection down (keepalive timeout flushes callbacks before 'close').
        if (err && typeof (err as { code?: unknown }).code !== 'number') this.connectionFailing(link, err);
        else link.settle(token, err ?? undefined);
      },
    );
  }

  subscribe(filter: string, qos: Qos, handler: MessageHandler): void {
    const sub = this.subscriptions.add(filter, qos, handler);
    // Sent now if a session is up; otherwise with the others after the next CONNACK.
    const link = this.link;
    if (link !== undefined && sessionOf(link.state) !== undefined) this.subscriptions.send(link, [sub]);
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
      client = mqtt.connect(url, mqttClientOptions(this.options));
    } catch (err) {
      this.options.logger.error({ url: redactUrl(url), err: errorText(err) }, 'uplink cannot connect to this URL');
      this.scheduleRetry(true);
      return;
    }
    const link: Link = new Link(
      url,
      client,
      new StabilityWatch(this.options.stableAfterMs ?? STABLE_AFTER_MS, () => this.onStable(link)),
      this.options.logger,
    );
    this.link = link;
    // Plain TCP emits 'connect'; TLS emits it too, before 'secureConnect'.
    client.stream?.once('connect', () => {
      link.state = tcpConnected(link.state);
    });
    this.options.logger.debug({ url: redactUrl(url), attempt: this.attempts }, 'uplink connecting');
    client.on('connect', (connack) => this.onConnack(link, connack));
    client.on('packetreceive', (packet) => {
      if (packet.cmd !== 'connack' && !link.closed) link.stability.heard();
    });
    client.on('message', (topic, payload, packet) => {
      if (!link.closed) this.subscriptions.dispatch(topic, payload, packet.retain);
    });
    client.on('error', (err) => this.onClientError(link, err));
    client.on('disconnect', (packet) => {
      link.lastError = new Error(`broker sent DISCONNECT (reason code ${packet.reasonCode ?? 0})`);
    });
    client.on('close', () => this.closeLink(link));
  }

  private onConnack(link: Link, connack: IConnackPacket): void {
    if (link !== this.link || link.state.phase !== 'connecting' || this.state !== 'running') return;
    const v5 = this.options.protocolVersion === 5
      ? new Mqtt5Publisher(connack.properties?.topicAliasMaximum ?? 0, connack.properties?.maximumPacketSize)
      : undefined;
    link.state = connackReceived(link.state, { v5 });
    this.subscriptions.send(link);
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
    if (link.state.phase !== 'announcing' || this.state !== 'running') return;
    const now = this.options.clock.now();
    link.state = announced(link.state, now);
    this.connects += 1;
    link.stability.start();
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

  private onStable(link: Link): void {
    if (link !== this.link || link.closed) return;
    this.pace.reset();
    this.lastErrorText = '';
    this.options.logger.debug(
      { url: redactUrl(link.url), upMs: this.options.clock.now() - (announcedAt(link.state) ?? 0) },
      'uplink connection stable; reconnect backoff reset',
    );
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
    const end = closed(link.state);
    link.state = end;
    link.stability.stop();
    const reason = this.state === 'running' ? (link.lastError?.message ?? 'connection closed') : 'stopped';
    if (this.link === link) this.link = undefined;
    link.failAll(reason);
    // Our listeners stay attached (they all check link.closed): mqtt.js needs its own 'close'
    // handling to clear its timers, and an 'error' listener so a late error cannot crash us.
    link.client.end(true);
    // end() is a no-op while a graceful end is under way (stop() on a hung broker): cut it here.
    link.client.stream?.destroy();
    // 'connect' was emitted for this link, so 'disconnect' is owed.
    const since = end.announcedAt;
    if (since !== undefined) {
      this.lastDownAt = this.options.clock.now();
      // A stop we asked for is routine; anything else is an outage worth a warning.
      const level = reason === 'stopped' ? 'info' : 'warn';
      const upMs = this.lastDownAt - since;
      this.options.logger[level]({ url: redactUrl(link.url), reason, upMs, stable: link.stability.stable }, 'uplink disconnected');
    } else if (link.lastError === undefined && this.state === 'running') {
      this.options.logger.warn({ url: redactUrl(link.url), reason }, 'uplink connection attempt failed');
    }
    // Retry planned before listeners run, so a throwing listener cannot leave us disconnected.
    if (this.state === 'running') this.scheduleRetry(end.reachedBroker);
    if (since !== undefined) this.emit('disconnect', { reason });
  }

  /** mqtt.js is tearing the connection down (its callbacks fail before 'close' arrives). */
  private connectionFailing(link: Link, err: Error): void {
    link.state = stopAccepting(link.state);
    link.failAll(link.lastError?.message ?? err.message);
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

  private async shutdown(link: Link | undefined): Promise<void> {
    if (link !== undefined && !link.closed) await this.closeGracefully(link);
    this.options.logger.info({}, 'uplink stopped');
  }

  private async closeGracefully(link: Link): Promise<void> {
    link.state = stopAccepting(link.state);
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
