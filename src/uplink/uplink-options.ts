// Settings of MqttUplink, built by the gateway from the site file's `mqtt` section.
import type { IClientOptions } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import type { BackoffOptions } from '../util/backoff.js';

export interface UplinkStatusOptions {
  topic: string;
  online: string;
  offline: string;
  qos: 1;
  retain: true;
}

export interface UplinkTlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** SNI / certificate name to check when it differs from the URL's host. */
  servername?: string;
}

export interface MqttUplinkOptions {
  /** Tried in turn (failover) on every reconnect. */
  urls: string[];
  clientId: string;
  username?: string;
  password?: string;
  protocolVersion: 4 | 5;
  keepaliveMs: number;
  connectTimeoutMs: number;
  tls?: UplinkTlsOptions;
  status?: UplinkStatusOptions;
  /** Defaults: first retry within 1 s, cap 30 s. */
  backoff?: BackoffOptions;
  /**
   * Pace of retries after attempts that never reached the broker (TCP refused, unreachable, DNS):
   * between half of this and this, ms. Default 1000; at or above the backoff cap it changes nothing.
   */
  refusedRetryMs?: number;
  /**
   * The backoff resets only after a connection has been up this long and the broker has answered
   * something since (ack or PINGRESP). Default STABLE_AFTER_MS (30 s).
   */
  stableAfterMs?: number;
  logger: Logger;
  clock: Clock;
  /** Called on every connection attempt after the first (for the reconnects metric). */
  onReconnectAttempt?: () => void;
  /** Bound on stop()'s wait for the `offline` PUBACK and for the clean disconnect; default 2 s. */
  stopTimeoutMs?: number;
  /**
   * `debug`: mqtt.js logs through the debug package (DEBUG=mqttjs* shows it). `off` (default):
   * its log calls go to a no-op instead, since debug's wrapper gathers the arguments of each of
   * the ~10 calls a publish and its PUBACK make into a new array even while nothing is shown.
   */
  protocolLog?: 'debug' | 'off';
}

const noLog = (): void => {};

/**
 * mqtt.js options for one connection attempt. Reconnecting, resubscribing and queueing are turned
 * off: MqttUplink does each itself (a fresh client per attempt, nothing queued in memory).
 */
export function mqttClientOptions(o: MqttUplinkOptions): IClientOptions {
  const options: IClientOptions = {
    clientId: o.clientId,
    protocolVersion: o.protocolVersion,
    clean: true,
    keepalive: Math.ceil(o.keepaliveMs / 1000),
    connectTimeout: o.connectTimeoutMs,
    reconnectPeriod: 0,
    resubscribe: false,
    queueQoSZero: false,
    // mqtt-packet would otherwise pre-build a Buffer for every packet id (65,536 of them, ~6 MB
    // of heap held for the life of the process): a fifth of the gateway's heap on a Pi.
    writeCache: false,
    rejectUnauthorized: true,
    // By default mqtt.js restarts its keepalive timer on every PUBACK it receives: a clearTimeout
    // and a new Timeout per message, a few per cent of the CPU of live forwarding. Without that the
    // PINGREQ simply goes every keepalive interval, busy or not, and a broker that stops answering
    // is still noticed after 1.5 × keepalive.
    reschedulePings: false,
  };
  if (o.protocolLog !== 'debug') options.log = noLog;
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
