// The one fake broker connection for unit tests (forwarder, command handler): the test decides
// when the connection comes and goes and when each publish is acknowledged or refused. Like the
// real MqttUplink it never queues: a publish while disconnected fails (asynchronously), and a
// connection loss fails every publish still waiting for its acknowledgement.
import { EventEmitter } from 'node:events';
import type { Qos } from '../../src/journal/journal.js';
import type { MessageHandler, OutgoingMessage, Uplink, UplinkEvents } from '../../src/uplink/uplink.js';
import { unpackMessage } from '../../src/wire/unpack.js';

export interface SentMessage extends OutgoingMessage {
  /** The journal seqs the payload carries (one row or a pack); empty for anything else. */
  seqs: number[];
}

interface Pending {
  message: SentMessage;
  done: (err?: Error) => void;
}

export class FakeUplink extends EventEmitter<UplinkEvents> implements Uplink {
  connected = false;
  maxPacketSize: number | undefined;
  /** Every message the broker received, in arrival order (resends included). */
  readonly sent: SentMessage[] = [];
  /** Publishes awaiting their acknowledgement, oldest first. */
  readonly pending: Pending[] = [];
  readonly subscriptions: Array<{ filter: string; qos: Qos; handler: MessageHandler }> = [];
  /** Most publishes awaiting acknowledgement at any one time. */
  maxPending = 0;

  /** autoAck: every publish is acknowledged as soon as it is made (a broker that is never slow). */
  constructor(private readonly options: { connected?: boolean; autoAck?: boolean } = {}) {
    super();
    this.connected = options.connected ?? false;
  }

  /** Every seq received, in arrival order (duplicates included). */
  get received(): number[] {
    return this.sent.flatMap((m) => m.seqs);
  }

  start(): void {}
  async stop(): Promise<void> {}

  subscribe(filter: string, qos: Qos, handler: MessageHandler): void {
    this.subscriptions.push({ filter, qos, handler });
  }

  publish(message: OutgoingMessage, done: (err?: Error) => void): void {
    if (!this.connected) {
      setImmediate(() => done(new Error('not connected')));
      return;
    }
    const sent = { ...message, seqs: seqsOf(message.payload) };
    this.sent.push(sent);
    if (this.options.autoAck) {
      done();
      return;
    }
    this.pending.push({ message: sent, done });
    this.maxPending = Math.max(this.maxPending, this.pending.length);
  }

  /** The broker acknowledges the oldest `n` pending publishes. */
  ack(n = this.pending.length): void {
    for (const p of this.pending.splice(0, n)) p.done();
  }

  /** The broker acknowledges the pending publish at `index` only (out of order, as QoS 2 may). */
  ackAt(index: number): void {
    const [p] = this.pending.splice(index, 1);
    p?.done();
  }

  /** The broker refuses the oldest pending publish (an MQTT 5 reason code); the connection stays. */
  refuse(error = new Error('refused by broker')): void {
    this.pending.shift()?.done(error);
  }

  up(): void {
    this.connected = true;
    this.emit('connect', { url: 'mqtt://fake', sessionPresent: false });
  }

  /** The connection drops: every pending publish fails, then 'disconnect', as in MqttUplink. */
  down(): void {
    this.connected = false;
    for (const p of this.pending.splice(0)) p.done(new Error('connection lost'));
    this.emit('disconnect', { reason: 'test' });
  }
}

function seqsOf(payload: Buffer): number[] {
  try {
    return unpackMessage(payload).map((r) => r.seq);
  } catch {
    return [];
  }
}
