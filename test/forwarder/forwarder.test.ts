// The forwarder's window against a broker the test drives (test/support/fake-uplink.ts): order,
// the window limit, removal only after a row's own acknowledgement, resending after a loss, and
// the rules with time in them (replay_rate, batched removal, the pause after a refusal) on fake
// timers. Pumping runs on real setImmediate, so `settle()` lets it run without moving time.
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { pino } from 'pino';
import { Forwarder, type ForwarderOptions } from '../../src/forwarder/forwarder.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import type { NewEntry } from '../../src/journal/journal.js';
import { FakeUplink } from '../support/fake-uplink.js';

const logger = pino({ level: 'silent' });
const clock = { now: () => Date.now() };

function entries(n: number, from = 0): NewEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: 1_700_000_000_000 + from + i,
    topic: 't/x',
    qos: 1 as const,
    retain: false,
    encoding: 'json' as const,
    render: (seq: number) => Buffer.from(JSON.stringify({ seq, ts: 0 })),
  }));
}

const tick = () => new Promise((r) => setImmediate(r));
async function settle(rounds = 5) {
  for (let i = 0; i < rounds; i++) await tick();
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** Timers and Date under the test's control; setImmediate stays real so the pump still runs. */
const fakeTime = () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });

function setup(options: Partial<ForwarderOptions> = {}, backlog = 0) {
  const journal = new MemoryJournal({ maxMessages: 1_000_000, maxBytes: 1e9, whenFull: 'drop_oldest', logger, clock });
  journal.open();
  journal.append(entries(backlog));
  const uplink = new FakeUplink();
  const forwarder = new Forwarder({ journal, uplink, inflight: 10, replayRate: 0, logger, clock, removeDelayMs: 1, ...options });
  forwarder.start();
  return { journal, uplink, forwarder };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Forwarder', () => {
  it('sends nothing while disconnected', async () => {
    const { uplink, forwarder } = setup({}, 3);
    forwarder.notify();
    await settle();
    expect(uplink.sent).toEqual([]);
    forwarder.stop();
  });

  it('sends the backlog in seq order once connected, one window at a time', async () => {
    const { uplink, forwarder } = setup({ inflight: 5 }, 12);
    uplink.up();
    await settle();
    expect(uplink.received).toEqual(range(1, 5));
    for (let i = 0; i < 3; i++) {
      uplink.ack();
      await settle();
    }
    expect(uplink.received).toEqual(range(1, 12));
    forwarder.stop();
  });

  it('sends rows as soon as their commit is reported, within the window, and not after stop', async () => {
    const { journal, uplink, forwarder } = setup({ inflight: 3 });
    uplink.up();
    await settle();
    journal.append(entries(5));
    forwarder.committed();
    // Synchronously: no turn of the event loop between the commit and the publishes.
    expect(uplink.received).toEqual([1, 2, 3]);
    uplink.ack(3);
    await settle();
    expect(uplink.received).toEqual(range(1, 5));
    forwarder.stop();
    journal.append(entries(2));
    forwarder.committed();
    await settle();
    expect(uplink.received).toEqual(range(1, 5));
  });

  it('sends the rows a commit hands over without reading them back, and reads whatever is not next in line', async () => {
    const { journal, uplink, forwarder } = setup({ inflight: 2 });
    let served = 0;
    const readAfter = journal.readAfter.bind(journal);
    journal.readAfter = (after, limit) => {
      const rows = readAfter(after, limit);
      served += rows.length;
      return rows;
    };
    uplink.up();
    await settle();
    forwarder.committed(journal.append(entries(3)).rows);
    expect(uplink.received).toEqual([1, 2]);
    expect(served).toBe(0);
    // Row 3 still waits for room in the window: 4 and 5 are not next in line, so they are read.
    forwarder.committed(journal.append(entries(2)).rows);
    uplink.ack();
    await settle();
    uplink.ack();
    await settle();
    expect(uplink.received).toEqual(range(1, 5));
    expect(served).toBe(2);
    // A row journaled without being handed over (a pump was already scheduled, say) goes before
    // the handed-over row that follows it.
    journal.append(entries(1));
    forwarder.committed(journal.append(entries(1)).rows);
    await settle();
    uplink.ack();
    await settle();
    expect(uplink.received).toEqual(range(1, 7));
    expect(served).toBe(4);
    forwarder.stop();
  });

  it('never has more than `inflight` publishes unacknowledged', async () => {
    const { uplink, forwarder } = setup({ inflight: 7 }, 100);
    uplink.up();
    for (let i = 0; i < 40; i++) {
      await settle(2);
      uplink.ack(3);
    }
    expect(uplink.maxPending).toBe(7);
    forwarder.stop();
  });

  it('keeps a row until its own acknowledgement arrives', async () => {
    const { journal, uplink, forwarder } = setup({ inflight: 4 }, 4);
    uplink.up();
    await settle();
    // Only seq 3 is acknowledged (out of order, as after a QoS 2 flow); 1, 2 and 4 must stay.
    uplink.ackAt(2);
    forwarder.stop(); // flushes the removal batch
    expect(journal.readAfter(0, 10).map((e) => e.seq)).toEqual([1, 2, 4]);
  });

  it('resends from the oldest unacknowledged row after a connection loss', async () => {
    const { uplink, forwarder } = setup({ inflight: 5 }, 8);
    uplink.up();
    await settle();
    uplink.ack(2); // 1 and 2 delivered
    await settle();
    uplink.down(); // 3..7 in flight are lost
    uplink.up();
    await settle();
    expect(uplink.pending.map((p) => p.message.seqs[0])).toEqual([3, 4, 5, 6, 7]);
    forwarder.stop();
  });

  it('delivers every seq in order under random acks and outages (duplicates only within the window)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.oneof(fc.constant('down'), fc.integer({ min: 0, max: 6 }), fc.constant('append')), { maxLength: 60 }),
        async (window, script) => {
          // removeBatch 1: every acknowledgement is removed at once, so depth says what is delivered.
          const { journal, uplink, forwarder } = setup({ inflight: window, removeBatch: 1 });
          let total = 0;
          // As the gateway does: the commit's rows handed over, or (every other append) only a nudge.
          const append = (n: number) => {
            const { rows } = journal.append(entries(n, total));
            total += n;
            if (total % 2 === 0) forwarder.committed(rows);
            else forwarder.notify();
          };
          append(15);
          uplink.up();
          for (const step of script) {
            await settle(2);
            if (step === 'down') {
              uplink.down();
              uplink.up();
            } else if (step === 'append') {
              append(5);
            } else {
              uplink.ack(step);
            }
          }
          for (let i = 0; i < 200 && (journal.stats().depth > 0 || uplink.pending.length > 0); i++) {
            await settle(2);
            uplink.ack();
          }
          forwarder.stop();
          expect(journal.stats().depth).toBe(0);
          const firsts = [...new Set(uplink.received)];
          expect(firsts).toEqual(range(1, total));
          expect(uplink.received.length - total).toBeLessThanOrEqual(window * script.filter((s) => s === 'down').length);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('drain() delivers what is left and reports success', async () => {
    const journal = new MemoryJournal({ maxMessages: 1000, maxBytes: 1e9, whenFull: 'drop_oldest', logger, clock });
    journal.open();
    journal.append(entries(25));
    const uplink = new FakeUplink({ connected: true, autoAck: true });
    const forwarder = new Forwarder({ journal, uplink, inflight: 10, replayRate: 0, logger, clock });
    forwarder.start();
    expect(await forwarder.drain(2000)).toBe(true);
    expect(journal.stats().depth).toBe(0);
    forwarder.stop();
  });
});

describe('Forwarder: rules with time in them', () => {
  it('replay_rate: a burst of one second\'s worth, then the rate', async () => {
    fakeTime();
    const { uplink, forwarder } = setup({ inflight: 1000, replayRate: 50 }, 200);
    uplink.up();
    await settle();
    expect(uplink.received).toHaveLength(50);
    for (let t = 0; t < 100; t += 20) {
      await vi.advanceTimersByTimeAsync(20);
      await settle();
    }
    expect(uplink.received).toHaveLength(55);
    forwarder.stop();
  });

  it('a replay_rate so low the next token is months away waits instead of polling every millisecond', async () => {
    // One message per 10^7 s (~116 days): the wait for a token is beyond a plain timer's 24.8 days,
    // which Node would have turned into 1 ms.
    const { uplink, forwarder } = setup({ inflight: 100, replayRate: 1e-7 }, 5);
    const asks = vi.spyOn((forwarder as unknown as { bucket: { take(rows: number): number } }).bucket, 'take');
    uplink.up();
    await new Promise((r) => setTimeout(r, 300));
    expect(uplink.received.length).toBeLessThanOrEqual(1);
    expect(asks.mock.calls.length).toBeLessThan(10);
    forwarder.stop();
  });

  it('removes acknowledged rows removeDelayMs after the first acknowledgement', async () => {
    fakeTime();
    const { journal, uplink, forwarder } = setup({ removeDelayMs: 20, removeBatch: 5 }, 10);
    uplink.up();
    await settle();
    uplink.ack(3);
    vi.advanceTimersByTime(19);
    expect(journal.stats().depth).toBe(10);
    vi.advanceTimersByTime(1);
    expect(journal.stats().depth).toBe(7);
    forwarder.stop();
  });

  it('removes at once when removeBatch acknowledgements are waiting', async () => {
    fakeTime();
    const { journal, uplink, forwarder } = setup({ removeDelayMs: 20, removeBatch: 5 }, 10);
    uplink.up();
    await settle();
    uplink.ack(5);
    expect(journal.stats().depth).toBe(5);
    forwarder.stop();
  });

  it('after a refused publish: keeps the row, holds off for 1 s on the same connection, then resends', async () => {
    fakeTime();
    const { journal, uplink, forwarder } = setup({ inflight: 2 }, 3);
    uplink.up();
    await settle();
    uplink.refuse();
    await settle();
    expect(uplink.received).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(999);
    await settle();
    expect(uplink.received).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(uplink.received.slice(2)).toEqual([1, 2]);
    expect(journal.stats().depth).toBe(3);
    forwarder.stop();
  });

  it('a late acknowledgement (sent before a reset) removes its row but does not free a slot', async () => {
    fakeTime();
    const { journal, uplink, forwarder } = setup({ inflight: 2 }, 4);
    uplink.up();
    await settle();
    uplink.refuse(); // seq 1: reset, the window is empty, 1 s hold-off
    expect(forwarder.inflight).toBe(0);
    uplink.ack(1); // seq 2's PUBACK, from the generation before the reset
    expect(forwarder.inflight).toBe(0);
    vi.advanceTimersByTime(1);
    expect(journal.readAfter(0, 10).map((e) => e.seq)).toEqual([1, 3, 4]);
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    // Resent from the oldest row still journaled; 2 is not among them.
    expect(uplink.received.slice(2)).toEqual([1, 3]);
    forwarder.stop();
  });
});

describe('Forwarder shutdown', () => {
  it('removes rows acknowledged while the uplink was stopping, before the journal closes', async () => {
    fakeTime();
    const { journal, uplink, forwarder } = setup({ inflight: 100, removeDelayMs: 1000 }, 10);
    uplink.up();
    await settle();
    expect(uplink.pending).toHaveLength(10);
    forwarder.stop();
    // The broker's PUBACKs arrive while the uplink publishes "offline" and ends the connection.
    uplink.ack(10);
    forwarder.close();
    expect(journal.stats().depth).toBe(0);
    journal.close();
    // No removal is left waiting to touch the closed journal.
    expect(() => vi.advanceTimersByTime(2000)).not.toThrow();
  });

  it('ignores acknowledgements after close: the rows stay journaled, never an error', async () => {
    fakeTime();
    const { journal, uplink, forwarder } = setup({ inflight: 100 }, 3);
    uplink.up();
    await settle();
    forwarder.close();
    journal.close();
    expect(() => uplink.ack(3)).not.toThrow();
    expect(() => vi.advanceTimersByTime(1000)).not.toThrow();
  });
});
