// MQTT 5 publish properties for one connection: topic aliases and the broker's packet size limit.
// Aliases are handed out first come first served, up to the broker's Topic Alias Maximum, and
// kept for the life of the connection. mqtt.js's own autoAssignTopicAlias recycles them LRU-wise,
// which with more topics than aliases re-sends every topic *plus* an alias: worse than none.
import type { Qos } from '../journal/journal.js';
import type { OutgoingMessage } from './uplink.js';

export interface PublishProperties {
  topicAlias?: number;
  contentType?: string;
}

export interface PlannedMqtt5Publish {
  /** Topic to put in the packet: empty when an alias already stands for it. */
  topic: string;
  properties: PublishProperties | undefined;
  /** Bytes of the PUBLISH packet on the wire. */
  size: number;
  /** True when the broker's Maximum Packet Size forbids it. */
  tooLarge: boolean;
  /** Call once the packet is handed to mqtt.js: a new alias counts as registered from then on. */
  commit(): void;
}

export class Mqtt5Publisher {
  private readonly aliases = new Map<string, number>();

  constructor(
    /** Topic Alias Maximum from CONNACK; 0 = the broker takes none. */
    private readonly aliasMax: number,
    /** Maximum Packet Size from CONNACK; undefined = none announced. */
    readonly maxPacketSize: number | undefined,
  ) {}

  plan(message: OutgoingMessage): PlannedMqtt5Publish {
    const properties: PublishProperties = {};
    const known = this.aliases.get(message.topic);
    const fresh = known === undefined && this.aliases.size < this.aliasMax;
    const alias = fresh ? this.aliases.size + 1 : known;
    // A new alias goes out with its topic, which registers it at the broker; later, alone.
    const topic = alias !== undefined && !fresh ? '' : message.topic;
    if (alias !== undefined) properties.topicAlias = alias;
    if (message.contentType !== undefined) properties.contentType = message.contentType;
    const size = publishPacketSize(topic, message.payload.length, message.qos, properties);
    return {
      topic,
      properties: Object.keys(properties).length > 0 ? properties : undefined,
      size,
      tooLarge: this.maxPacketSize !== undefined && size > this.maxPacketSize,
      commit: () => {
        if (fresh) this.aliases.set(message.topic, alias!);
      },
    };
  }
}

/** Bytes of an MQTT 5 PUBLISH packet on the wire. */
export function publishPacketSize(topic: string, payloadBytes: number, qos: Qos, properties: PublishProperties): number {
  let props = 0;
  if (properties.topicAlias !== undefined) props += 3;
  if (properties.contentType !== undefined) props += 3 + Buffer.byteLength(properties.contentType);
  const remaining = 2 + Buffer.byteLength(topic) + (qos > 0 ? 2 : 0) + varintBytes(props) + props + payloadBytes;
  return 1 + varintBytes(remaining) + remaining;
}

function varintBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}
