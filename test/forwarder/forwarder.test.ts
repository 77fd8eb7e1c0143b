import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pino } from 'pino';
import { Forwarder } from '../../src/forwarder/forwarder.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import type { NewEntry } from '../../src/journal/journal.js';
import type { OutgoingMessage, Uplink, UplinkEvents } from '../../src/uplink/uplink.js';

const logger = pino({ level: 'silent' });
const clock = { now: () => Date.now() };

/** A broker connection whose acknowledgements and failures the test drives by hand. */
class ScriptedUplink extends EventEmitter<UplinkEvents> implements Uplink {
  connected = false;
  pending: { seq: number; done: (err?: Error) => void }[] = [];
  /** Every seq the broker received, in arrival order (duplicates included). */
  received: number[] = [];
  maxInflightSeen = 0;
  start(): void {}
  async stop(): Promise<void> {}
  subscribe(): void {}
  publish(message: OutgoingMessage, done: (err?: Error) => void): void {
    if (!this.connected) {
      setImmediate(() => done(new Error('not connected')));
      return;
    }
    const seq = (JSON.parse(message.payload.toString()) as { seq: number }).seq;
    this.received.push(seq);
    this.pending.push({ seq, done });
    this.maxInflightSeen = Math.max(this.maxInflightSeen, this.pending.length);
  }
  ack(n: number): void {
    for (const p of this.pending.splice(0, n)) p.done();
  }
  up(): void {
    this.connected = true;
    this.emit('connect', { url: 'mqtt://test', sessionPresent: false });
  }
  down(): void {
    this.connected = false;
    const failed = this.pending.splice(0);
    this.emit('disconnect', { reason: 'test' });
    for (const p of failed) p.done(new Error('connection lost'));
  }
}

function entries(n: number, from = 0): NewEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: 1_700_000_000_000 + from + i,
    topic: 't/x',
    qos: 1 as const,
    retain: false,
    encoding: 'json' as const,
    render: (seq: number) => Buffer.from(JSON.stringify({ seq })),
  }));
}

const tick = () => new Promise((r) => setImmediate(r));
async function settle(rounds = 5) {
  for (let i = 0; i < rounds; i++) await tick();
}

function setup(inflight = 10) {
  const journal = new MemoryJournal({ maxMessages: 1_000_000, maxBytes: 1e9, whenFull: 'drop_oldest', logger, clock });
  journal.open();
  const uplink = new ScriptedUplink();
  const forwarder = new Forwarder({ journal, uplink, inflight, replayRate: 0, logger, clock, removeDelayMs: 1 });
  forwarder.start();
  return { journal, uplink, forwarder };
}

describe('Forwarder', () => {
  it('sends nothing while disconnected and everything in order once connected', async () => {
    const { journal, uplink, forwarder } = setup(5);
    journal.append(entries(12));
    forwarder.notify();
    await settle();
    expect(uplink.received).toEqual([]);
    uplink.up();
    await settle();
    expect(uplink.received).toEqual([1, 2, 3, 4, 5]);
    for (let i = 0; i < 10; i++) {
      uplink.ack(uplink.pending.length);
      await settle();
    }
    expect(uplink.received).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    await new Promise((r) => setTimeout(r, 10));
    expect(journal.stats().depth).toBe(0);
    forwarder.stop();
  });

  it('never has more than `inflight` publishes unacknowledged', async () => {
    const { journal, uplink, forwarder } = setup(7);
    uplink.up();
    journal.append(entries(100));
    forwarder.notify();
    for (let i = 0; i < 40; i++) {
      await settle(2);
      uplink.ack(3);
    }
    expect(uplink.maxInflightSeen).toBeLessThanOrEqual(7);
    forwarder.stop();
  });

  it('keeps a row until its own acknowledgement arrives', async () => {
    const { journal, uplink, forwarder } = setup(4);
    uplink.up();
    journal.append(entries(4));
    forwarder.notify();
    await settle();
    expect(uplink.pending.map((p) => p.seq)).toEqual([1, 2, 3, 4]);
    // Acknowledge only seq 3 (out of order, as after a QoS 2 flow); 1, 2 and 4 must stay.
    const third = uplink.pending.splice(2, 1)[0]!;
    third.done();
    await new Promise((r) => setTimeout(r, 10));
    expect([...journal.readAfter(0, 10)].map((e) => e.seq)).toEqual([1, 2, 4]);
    forwarder.stop();
  });

  it('resends from the oldest unacknowledged row after a connection loss', async () => {
    const { journal, uplink, forwarder } = setup(5);
    uplink.up();
    journal.append(entries(8));
    forwarder.notify();
    await settle();
    uplink.ack(2); // 1 and 2 delivered
    await settle();
    uplink.down(); // 3..7 in flight are lost
    await settle();
    uplink.up();
    await settle();
    expect(uplink.received.slice(-5)).toEqual([3, 4, 5, 6, 7]);
    forwarder.stop();
  });

  it('delivers every seq in order under random acks and outages (duplicates only within the window)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.oneof(fc.constant('down'), fc.integer({ min: 0, max: 6 }), fc.constant('append')), { maxLength: 60 }),
        async (window, script) => {
          const { journal, uplink, forwarder } = setup(window);
          let total = 0;
          const append = (n: number) => {
            journal.append(entries(n, total));
            total += n;
            forwarder.notify();
          };
          append(15);
          uplink.up();
          for (const step of script) {
            await settle(2);
            if (step === 'down') {
              uplink.down();
              await settle(2);
              uplink.up();
            } else if (step === 'append') {
              append(5);
            } else {
              uplink.ack(step);
            }
          }
          for (let i = 0; i < 200 && (journal.stats().depth > 0 || uplink.pending.length > 0); i++) {
            await settle(2);
            uplink.ack(uplink.pending.length);
            await new Promise((r) => setTimeout(r, 2));
          }
          expect(journal.stats().depth).toBe(0);
          // First arrivals are exactly 1..total in order.
          const firsts: number[] = [];
          const seen = new Set<number>();
          for (const s of uplink.received) {
            if (!seen.has(s)) {
              seen.add(s);
              firsts.push(s);
            }
          }
          expect(firsts).toEqual(Array.from({ length: total }, (_, i) => i + 1));
          expect(uplink.received.length - total).toBeLessThanOrEqual(window * script.filter((s) => s === 'down').length);
          forwarder.stop();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('paces the drain with replay_rate', async () => {
    const journal = new MemoryJournal({ maxMessages: 1000, maxBytes: 1e9, whenFull: 'drop_oldest', logger, clock });
    journal.open();
    const uplink = new ScriptedUplink();
    const forwarder = new Forwarder({ journal, uplink, inflight: 100, replayRate: 50, logger, clock, removeDelayMs: 1 });
    forwarder.start();
    journal.append(entries(200));
    uplink.up();
    const started = Date.now();
    while (uplink.received.length < 30) {
      uplink.ack(uplink.pending.length);
      await new Promise((r) => setTimeout(r, 5));
    }
    const elapsed = Date.now() - started;
    // 50/s with a bucket of 50: the first 30 may go at once, but not the whole backlog.
    expect(elapsed).toBeLessThan(2000);
    await new Promise((r) => setTimeout(r, 400));
    uplink.ack(uplink.pending.length);
    expect(uplink.received.length).toBeLessThan(50 + 0.4 * 50 + 10);
    forwarder.stop();
  });

  it('drain() delivers what is left and reports success', async () => {
    const { journal, uplink, forwarder } = setup(10);
    uplink.up();
    journal.append(entries(25));
    forwarder.notify();
    const acker = setInterval(() => uplink.ack(uplink.pending.length), 2);
    const ok = await forwarder.drain(2000);
    clearInterval(acker);
    expect(ok).toBe(true);
    expect(journal.stats().depth).toBe(0);
    forwarder.stop();
  });
});

describe('Forwarder shutdown', () => {
  it('removes rows acknowledged while the uplink was stopping, before the journal closes', async () => {
    const journal = new MemoryJournal({ maxMessages: 1000, maxBytes: 1e6, whenFull: 'drop_oldest', logger, clock });
    journal.open();
    journal.append(entries(10));
    const uplink = new ScriptedUplink();
    const forwarder = new Forwarder({ journal, uplink, inflight: 100, replayRate: 0, logger, clock, removeDelayMs: 1000 });
    forwarder.start();
    uplink.up();
    await settle();
    expect(uplink.pending).toHaveLength(10);
    forwarder.stop();
    // The broker's PUBACKs arrive while the uplink publishes "offline" and ends the connection.
    uplink.ack(10);
    forwarder.close();
    expect(journal.stats().depth).toBe(0);
    journal.close();
    // Nothing is left pending to touch the closed journal.
    await new Promise((r) => setTimeout(r, 1100));
  });

  it('ignores acknowledgements after close: the rows stay journaled, never an error', async () => {
    const journal = new MemoryJournal({ maxMessages: 1000, maxBytes: 1e6, whenFull: 'drop_oldest', logger, clock });
    journal.open();
    journal.append(entries(3));
    const uplink = new ScriptedUplink();
    const forwarder = new Forwarder({ journal, uplink, inflight: 100, replayRate: 0, logger, clock });
    forwarder.start();
    uplink.up();
    await settle();
    forwarder.close();
    journal.close();
    expect(() => uplink.ack(3)).not.toThrow();
    await new Promise((r) => setTimeout(r, 50));
  });
});
