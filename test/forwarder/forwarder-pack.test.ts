// The forwarder with buffer.pack: packs only while a backlog drains, removes a pack's rows only
// after its acknowledgement, resends them whole after a loss, respects the broker's packet size.
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { pino } from 'pino';
import { Forwarder, type PackOptions } from '../../src/forwarder/forwarder.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import type { NewEntry } from '../../src/journal/journal.js';
import { batchRenderer } from '../../src/mapping/batch-payload.js';
import { FakeUplink } from '../support/fake-uplink.js';

const logger = pino({ level: 'silent' });
const clock = { now: () => Date.now() };
const T0 = Date.parse('2026-11-26T06:40:00.123Z');

/** n batch rows spread over `topics` devices, in poll order. */
function polls(n: number, topics: number, from = 0): NewEntry[] {
  return Array.from({ length: n }, (_, i) => {
    const k = from + i;
    const ts = T0 + Math.floor(k / topics) * 1000;
    return {
      ts, topic: `site/dev${k % topics}`, qos: 1 as const, retain: false, encoding: 'json' as const,
      render: batchRenderer('json', { ts, values: [['voltage', 230 + (k % 10) / 10], ['current', 3.2]], errors: [] }),
    };
  });
}

const tick = () => new Promise((r) => setImmediate(r));
async function settle(rounds = 5) {
  for (let i = 0; i < rounds; i++) await tick();
}

function setup(inflight: number, pack: PackOptions = { maxRows: 100, maxBytes: 65536 }, replayRate = 0) {
  const journal = new MemoryJournal({ maxMessages: 1_000_000, maxBytes: 1e9, whenFull: 'drop_oldest', logger, clock });
  journal.open();
  const uplink = new FakeUplink();
  const forwarder = new Forwarder({ journal, uplink, inflight, replayRate, logger, clock, removeDelayMs: 1, pack });
  forwarder.start();
  return { journal, uplink, forwarder };
}

async function drainAll(uplink: FakeUplink, journal: MemoryJournal) {
  for (let i = 0; i < 500 && (journal.stats().depth > 0 || uplink.pending.length > 0); i++) {
    await settle(2);
    uplink.ack(uplink.pending.length);
    await new Promise((r) => setTimeout(r, 2));
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Forwarder with packing', () => {
  it('packs a backlog per topic and sends live rows one by one', async () => {
    const { journal, uplink, forwarder } = setup(4);
    journal.append(polls(400, 4)); // 100 polls of 4 devices while offline
    uplink.up();
    await settle();
    expect(uplink.sent.slice(0, 4).map((p) => [p.topic, p.seqs.length])).toEqual([
      ['site/dev0', 100], ['site/dev1', 100], ['site/dev2', 100], ['site/dev3', 100],
    ]);
    await drainAll(uplink, journal);
    expect(journal.stats().depth).toBe(0);
    // Backlog gone: a few new rows (fewer than the window) keep their own messages.
    const before = uplink.sent.length;
    journal.append(polls(3, 4, 400));
    forwarder.notify();
    await settle();
    expect(uplink.sent.slice(before).map((p) => p.seqs.length)).toEqual([1, 1, 1]);
    forwarder.stop();
  });

  it('removes a pack only after its own acknowledgement, and resends it whole after a loss', async () => {
    const { journal, uplink, forwarder } = setup(2, { maxRows: 10, maxBytes: 65536 });
    journal.append(polls(40, 1));
    uplink.up();
    await settle();
    expect(uplink.pending.map((p) => p.message.seqs)).toEqual([range(1, 10), range(11, 20)]);
    uplink.ack(1);
    await new Promise((r) => setTimeout(r, 10));
    expect(journal.stats().depth).toBe(30);
    uplink.down();
    await settle();
    uplink.up();
    await settle();
    expect(uplink.pending[0]!.message.seqs[0]).toBe(11);
    forwarder.stop();
  });

  it("keeps packs within the broker's Maximum Packet Size", async () => {
    const { journal, uplink, forwarder } = setup(10);
    uplink.maxPacketSize = 600;
    journal.append(polls(300, 1));
    uplink.up();
    await drainAll(uplink, journal);
    expect(journal.stats().depth).toBe(0);
    const packs = uplink.sent.filter((p) => p.seqs.length > 1);
    expect(packs.length).toBeGreaterThan(3);
    for (const p of packs) expect(p.payload.length + 'site/dev0'.length + 64).toBeLessThanOrEqual(600);
    forwarder.stop();
  });

  it('counts rows, not publishes, against replay_rate', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const rate = 100;
    const maxRows = 50;
    const { journal, uplink, forwarder } = setup(100, { maxRows, maxBytes: 65536 }, rate);
    journal.append(polls(1000, 1));
    uplink.up();
    await settle();
    for (let ms = 0; ms < 5000; ms += 10) {
      uplink.ack();
      await vi.advanceTimersByTimeAsync(10);
      await settle(2);
    }
    // A burst of one second's worth, then the rate; a pack may overdraw the bucket by one pack.
    expect(uplink.received.length).toBeGreaterThanOrEqual(5 * rate - maxRows);
    expect(uplink.received.length).toBeLessThanOrEqual(rate + 5 * rate + maxRows);
    expect(uplink.sent.some((p) => p.seqs.length > 1)).toBe(true);
    forwarder.stop();
  });

  it('delivers every seq under random acks and outages; per topic in order; duplicates bounded by window × pack', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.oneof(fc.constant('down'), fc.integer({ min: 0, max: 4 }), fc.constant('append')), { maxLength: 50 }),
        async (window, maxRows, script) => {
          const { journal, uplink, forwarder } = setup(window, { maxRows, maxBytes: 65536 });
          let total = 0;
          // As the gateway does: the commit's rows handed over, or (every other append) only a nudge.
          const append = (n: number) => {
            const { rows } = journal.append(polls(n, 3, total));
            total += n;
            if (total % 2 === 0) forwarder.committed(rows);
            else forwarder.notify();
          };
          append(40);
          uplink.up();
          for (const step of script) {
            await settle(2);
            if (step === 'down') {
              uplink.down();
              await settle(2);
              uplink.up();
            } else if (step === 'append') {
              append(15);
            } else {
              uplink.ack(step);
            }
          }
          await drainAll(uplink, journal);
          expect(journal.stats().depth).toBe(0);
          const seen = new Set<number>();
          const perTopic = new Map<string, number[]>();
          for (const p of uplink.sent) {
            for (const s of p.seqs) {
              if (seen.has(s)) continue;
              seen.add(s);
              perTopic.set(p.topic, [...(perTopic.get(p.topic) ?? []), s]);
            }
          }
          expect([...seen].sort((a, b) => a - b)).toEqual(range(1, total));
          for (const seqs of perTopic.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
          const downs = script.filter((s) => s === 'down').length;
          expect(uplink.received.length - total).toBeLessThanOrEqual(window * maxRows * downs);
          forwarder.stop();
        },
      ),
      { numRuns: 40 },
    );
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
