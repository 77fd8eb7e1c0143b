// What the forwarder and the command handler see of the MQTT connection. The uplink never touches
// the journal: it publishes what it is given and says when the broker acknowledged it.
import type { EventEmitter } from 'node:events';
import type { Qos } from '../journal/journal.js';

export interface OutgoingMessage {
  topic: string;
  payload: Buffer;
  qos: Qos;
  retain: boolean;
  /** MQTT 5 Content Type property (e.g. application/cbor); dropped on MQTT 3.1.1. */
  contentType?: string;
}

export interface IncomingMeta {
  /** True when the broker delivered a retained message (sent on subscribe, not freshly published). */
  retain: boolean;
}

export type MessageHandler = (topic: string, payload: Buffer, meta: IncomingMeta) => void;

export interface UplinkEvents {
  connect: [info: { url: string; sessionPresent: boolean }];
  disconnect: [info: { reason: string }];
}

export interface Uplink extends EventEmitter<UplinkEvents> {
  readonly connected: boolean;
  /**
   * The broker's Maximum Packet Size from the current connection's CONNACK (MQTT 5), in bytes;
   * undefined when the broker set none or the protocol has no such property.
   */
  readonly maxPacketSize?: number;
  /** Connect (and keep reconnecting with backoff across the configured URLs) until stop(). */
  start(): void;
  /**
   * Calls back once the broker took the message: PUBACK for QoS 1, PUBCOMP for QoS 2, written to
   * the socket for QoS 0. Calls back with an error when the connection drops first; the message
   * must then be considered not delivered (it is not queued by the uplink).
   */
  publish(message: OutgoingMessage, done: (err?: Error) => void): void;
  /** Subscribe now and again after every reconnect. */
  subscribe(filter: string, qos: Qos, handler: MessageHandler): void;
  /** Publish "offline" status, disconnect cleanly, stop reconnecting. */
  stop(): Promise<void>;
}
