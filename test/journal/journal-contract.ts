// The Journal contract as one suite, run against every implementation (like MQTT.js's
// abstract_store): whatever backs the gateway, the forwarder sees the same behaviour.
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import type { Clock } from '../../src/driver-api/index.js';
import type { Journal, JournalEntry } from '../../src/journal/journal.js';
import { FieldgateError } from '../../src/util/errors.js';
import { captureLogger, counts, entries, entry, ManualClock, silentLogger } from './journal-helpers.js';

export interface JournalCase {
  journal: Journal;
  dispose(): void;
}

export interface JournalFactoryOptions {
  maxMessages: number;
  maxBytes: number;
  whenFull: 'drop_oldest' | 'drop_newest';
  logger: Logger;
  clock: Clock;
  keepDeliveredMs?: number;
}

/** Builds an opened journal; dispose() closes it and removes whatever it left on disk. */
export type JournalFactory = (options: JournalFactoryOptions) => JournalCase;

const text = (e: JournalEntry): string => e.payload.toString();

export function describeJournalContract(name: string, factory: JournalFactory): void {
  describe(`${name}: Journal contract`, () => {
    const cases: JournalCase[] = [];
    afterEach(() => {
      for (const c of cases.splice(0)) c.dispose();
    });
    function make(options: Partial<JournalFactoryOptions> = {}): Journal {
      const c = factory({
        maxMessages: 1000,
        maxBytes: 1_000_000,
        whenFull: 'drop_oldest',
        logger: silentLogger(),
        clock: new ManualClock(),
        ...options,
      });
      cases.push(c);
      return c.journal;
    }

    it('assigns contiguous seqs from 1 and renders each payload with its own seq', () => {
      const j = make();
      expect(counts(j.append(entries(3, 'a')))).toEqual({ stored: [1, 2, 3], refused: 0, evicted: 0 });
      expect(counts(j.append(entries(2, 'b')))).toEqual({ stored: [4, 5], refused: 0, evicted: 0 });
      expect(counts(j.append([]))).toEqual({ stored: [], refused: 0, evicted: 0 });
      expect(j.readAfter(0, 100).map(text)).toEqual(['1|a', '2|a', '3|a', '4|b', '5|b']);
    });

    it('hands over the rows it wrote, exactly as a read returns them, and none after an eviction', () => {
      const j = make({ maxMessages: 4, whenFull: 'drop_oldest' });
      const first = j.append([entry('p', { ts: 42, topic: 'a/b', qos: 0, retain: true, encoding: 'cbor' }), entry('q')]);
      expect(first.rows).toEqual(j.readAfter(0, 10));
      expect(first.rows!.map((r) => Object.keys(r).sort())).toEqual(j.readAfter(0, 10).map((r) => Object.keys(r).sort()));
      expect(j.append([]).rows).toBeUndefined();
      // Two more fit; the third evicts seq 1: an eviction may take rows of the call itself.
      expect(j.append(entries(2)).rows!.map((r) => r.seq)).toEqual([3, 4]);
      const evicting = j.append(entries(1));
      expect(evicting).toMatchObject({ stored: [5], evicted: 1 });
      expect(evicting.rows).toBeUndefined();
    });

    it('hands over only the rows it stored when some are refused', () => {
      const j = make({ maxMessages: 2, whenFull: 'drop_newest' });
      expect(j.append(entries(3)).rows!.map(text)).toEqual(['1|x', '2|x']);
      expect(j.append(entries(1)).rows).toBeUndefined();
    });

    it('keeps topic, qos, retain, encoding and ts exactly as given', () => {
      const j = make();
      j.append([
        entry('p', { ts: 42, topic: 'a/b', qos: 0, retain: true, encoding: 'cbor' }),
        entry('q', { ts: 43, topic: 'ünï/cödé', qos: 2, retain: false, encoding: 'json' }),
        entry('r', { ts: 44, topic: 'v', qos: 1, retain: false, encoding: 'text' }),
      ]);
      expect(j.readAfter(0, 10)).toEqual([
        { seq: 1, ts: 42, topic: 'a/b', qos: 0, retain: true, encoding: 'cbor', payload: Buffer.from('1|p') },
        { seq: 2, ts: 43, topic: 'ünï/cödé', qos: 2, retain: false, encoding: 'json', payload: Buffer.from('2|q') },
        { seq: 3, ts: 44, topic: 'v', qos: 1, retain: false, encoding: 'text', payload: Buffer.from('3|r') },
      ]);
    });

    it('reads oldest first after a given seq, up to a limit', () => {
      const j = make();
      j.append(entries(10));
      expect(j.readAfter(0, 3).map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(j.readAfter(3, 3).map((e) => e.seq)).toEqual([4, 5, 6]);
      expect(j.readAfter(8, 100).map((e) => e.seq)).toEqual([9, 10]);
      expect(j.readAfter(10, 100)).toEqual([]);
      expect(j.readAfter(0, 0)).toEqual([]);
      j.remove([4, 5]);
      expect(j.readAfter(3, 2).map((e) => e.seq)).toEqual([6, 7]);
    });

    it('ignores seqs that were already removed or never existed, and keeps the counters right', () => {
      const j = make();
      j.append(entries(5, 'abc', { topic: 'tt' }));
      j.remove([2, 2, 99, -1, 0]);
      j.remove([2, 3]);
      const s = j.stats();
      expect(s.depth).toBe(3);
      expect(s.bytes).toBe(3 * ('1|abc'.length + 2));
      expect(j.readAfter(0, 10).map((e) => e.seq)).toEqual([1, 4, 5]);
      j.remove([]);
      j.remove(Array.from({ length: 50 }, (_, i) => i - 45)); // a long run of mostly unknown seqs
      expect(j.stats()).toMatchObject({ depth: 1, oldestSeq: 5 });
    });

    it('reports depth, bytes (payload + UTF-8 topic), oldest entry and last seq', () => {
      const j = make();
      expect(j.stats()).toMatchObject({
        depth: 0, bytes: 0, oldestSeq: null, oldestTs: null, lastSeq: 0,
        drops: { drop_oldest: 0, drop_newest: 0, purge: 0 },
      });
      j.append([entry('aa', { ts: 7, topic: 'é' }), entry('bbb', { ts: 8, topic: 'x' })]);
      expect(j.stats()).toMatchObject({ depth: 2, bytes: 4 + 2 + 5 + 1, oldestSeq: 1, oldestTs: 7, lastSeq: 2 });
      j.remove([1]);
      expect(j.stats()).toMatchObject({ depth: 1, bytes: 6, oldestSeq: 2, oldestTs: 8, lastSeq: 2 });
    });

    it('drop_oldest evicts the oldest entries to stay within max_messages', () => {
      const j = make({ maxMessages: 3, whenFull: 'drop_oldest' });
      j.append(entries(2));
      expect(j.append(entries(3))).toEqual({ stored: [3, 4, 5], refused: 0, evicted: 2 });
      expect(j.readAfter(0, 10).map((e) => e.seq)).toEqual([3, 4, 5]);
      // More than the whole capacity in one call: the call's own first entries go too.
      expect(j.append(entries(5))).toEqual({ stored: [6, 7, 8, 9, 10], refused: 0, evicted: 5 });
      expect(j.readAfter(0, 10).map(text)).toEqual(['8|x', '9|x', '10|x']);
      expect(j.stats()).toMatchObject({ depth: 3, lastSeq: 10, drops: { drop_oldest: 7, drop_newest: 0 } });
    });

    it('drop_oldest evicts by bytes, and refuses an entry larger than max_bytes on its own', () => {
      // Each entry is topic "t" (1 byte) + "<seq>|" + body.
      const j = make({ maxMessages: 100, maxBytes: 30, whenFull: 'drop_oldest' });
      j.append([entry('aaaaaaa', { topic: 't' }), entry('bbbbbbb', { topic: 't' })]); // 10 bytes each
      expect(j.append([entry('ccccccccccccc', { topic: 't' })])).toEqual({ stored: [3], refused: 0, evicted: 1 });
      expect(j.stats()).toMatchObject({ depth: 2, bytes: 26 });
      expect(counts(j.append([entry('z'.repeat(40), { topic: 't' })]))).toEqual({ stored: [], refused: 1, evicted: 0 });
      expect(j.append([entry('d', { topic: 't' })]).stored).toEqual([4]);
      expect(j.stats()).toMatchObject({ depth: 3, bytes: 30, drops: { drop_oldest: 1, drop_newest: 1 } });
    });

    it('drop_newest refuses what does not fit and gives it no seq', () => {
      const j = make({ maxMessages: 3, whenFull: 'drop_newest' });
      expect(counts(j.append(entries(5)))).toEqual({ stored: [1, 2, 3], refused: 2, evicted: 0 });
      expect(counts(j.append(entries(1)))).toEqual({ stored: [], refused: 1, evicted: 0 });
      j.remove([1]);
      expect(counts(j.append(entries(2)))).toEqual({ stored: [4], refused: 1, evicted: 0 });
      expect(j.readAfter(0, 10).map(text)).toEqual(['2|x', '3|x', '4|x']);
      expect(j.stats()).toMatchObject({ depth: 3, lastSeq: 4, drops: { drop_oldest: 0, drop_newest: 4 } });
    });

    it('drop_newest checks each entry: a small one may still fit after a big one was refused', () => {
      const j = make({ maxMessages: 100, maxBytes: 20, whenFull: 'drop_newest' });
      const r = j.append([
        entry('aaaaaaaaa', { topic: 't' }), // 12 bytes
        entry('bbbbbbbbb', { topic: 't' }), // would make 24
        entry('cc', { topic: 't' }), // 5 bytes: 17
      ]);
      expect(counts(r)).toEqual({ stored: [1, 2], refused: 1, evicted: 0 });
      expect(j.readAfter(0, 10).map(text)).toEqual(['1|aaaaaaaaa', '2|cc']);
      expect(j.stats()).toMatchObject({ bytes: 17, drops: { drop_newest: 1 } });
    });

    it('exports entries with since <= ts < until, in journal order', () => {
      const j = make();
      j.append([10, 20, 15, 30, 20, 40].map((ts, i) => entry(`e${i}`, { ts })));
      const seqs = (since: number, until: number): number[] => [...j.export(since, until)].map((e) => e.seq);
      expect(seqs(15, 40)).toEqual([2, 3, 4, 5]);
      expect(seqs(0, Number.MAX_SAFE_INTEGER)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(seqs(41, 100)).toEqual([]);
      expect(seqs(20, 20)).toEqual([]);
      j.remove([2]);
      expect([...j.export(20, 21)].map(text)).toEqual(['5|e4']);
    });

    it('export pages through a large journal', () => {
      const j = make({ maxMessages: 5000 });
      for (let i = 0; i < 3; i += 1) j.append(Array.from({ length: 700 }, (_, k) => entry('v', { ts: i * 700 + k })));
      const got = [...j.export(100, 2000)];
      expect(got.length).toBe(1900);
      expect(got[0]!.seq).toBe(101);
      expect(got.at(-1)!.seq).toBe(2000);
    });

    it('purge deletes everything, counts it, and seqs continue after it and after a full drain', () => {
      const j = make();
      j.append(entries(4));
      expect(j.purge()).toBe(4);
      expect(j.stats()).toMatchObject({ depth: 0, bytes: 0, oldestSeq: null, lastSeq: 4, drops: { purge: 4 } });
      expect(j.append(entries(2)).stored).toEqual([5, 6]);
      j.remove([5, 6]);
      expect(j.stats()).toMatchObject({ depth: 0, lastSeq: 6 });
      expect(j.append(entries(1)).stored).toEqual([7]);
      expect(j.purge()).toBe(1);
      expect(j.purge()).toBe(0);
      expect(j.stats().drops.purge).toBe(5);
    });

    it('logs drops at warn, aggregated so a flood gives one line per interval', () => {
      const { logger, lines } = captureLogger();
      const clock = new ManualClock();
      const j = make({ maxMessages: 2, whenFull: 'drop_newest', logger, clock });
      j.append(entries(2));
      for (let i = 0; i < 100; i += 1) j.append(entries(3));
      let warns = lines.filter((l) => l.level === 40);
      expect(warns).toHaveLength(1);
      expect(warns[0]).toMatchObject({ dropped: { drop_newest: 3 } });
      clock.t += 60_000;
      j.append(entries(1));
      warns = lines.filter((l) => l.level === 40);
      expect(warns).toHaveLength(2);
      expect(warns[1]).toMatchObject({ dropped: { drop_newest: 99 * 3 + 1 } });
    });

    describe('keep_delivered', () => {
      const DAY = 86_400_000;

      it('keeps acknowledged rows as delivered: no longer read as backlog, still held for replay', () => {
        const j = make({ keepDeliveredMs: DAY });
        j.append(entries(5, 'a'));
        j.remove([1, 2, 4]);
        expect(j.readAfter(0, 100).map((e) => e.seq)).toEqual([3, 5]);
        expect(j.readHeld(0, 100, 100).map((e) => [e.seq, e.delivered])).toEqual([[1, true], [2, true], [3, false], [4, true], [5, false]]);
        expect(j.readHeld(1, 4, 2).map((e) => e.seq)).toEqual([2, 3]);
        const s = j.stats();
        expect([s.depth, s.oldestSeq, s.delivered.depth, s.delivered.oldestSeq]).toEqual([2, 3, 3, 1]);
        expect(s.bytes + s.delivered.bytes).toBe(5 * (3 + 'site/dev/point'.length));
        expect([...j.export(0, 1e15)].map((e) => e.seq)).toEqual([3, 5]);
        // Acknowledging a delivered row again changes nothing.
        j.remove([1, 2]);
        expect(j.stats().delivered.depth).toBe(3);
      });

      it('evicts delivered rows first when room is needed, without counting them as drops', () => {
        for (const whenFull of ['drop_oldest', 'drop_newest'] as const) {
          const j = make({ keepDeliveredMs: DAY, maxMessages: 4, whenFull });
          j.append(entries(4));
          j.remove([2, 3]);
          expect(counts(j.append(entries(2)))).toEqual({ stored: [5, 6], refused: 0, evicted: 0 });
          expect(j.readHeld(0, 100, 100).map((e) => [e.seq, e.delivered])).toEqual([[1, false], [4, false], [5, false], [6, false]]);
          expect(j.stats().drops).toEqual({ drop_oldest: 0, drop_newest: 0, purge: 0 });
          // Now only undelivered rows are left: the policy applies to them as before.
          const next = j.append(entries(1));
          expect(next.refused + next.evicted).toBe(1);
        }
      });

      it('expires delivered rows once they are older than keep_delivered', () => {
        const clock = new ManualClock();
        const j = make({ keepDeliveredMs: DAY, clock });
        j.append(entries(4));
        j.remove([1, 2]);
        clock.t += DAY / 2;
        j.remove([3]);
        clock.t += DAY / 2;
        j.remove([]); // expiry is due: 1 and 2 were delivered exactly a day ago and go
        j.remove([4]);
        expect(j.readHeld(0, 100, 100).map((e) => e.seq)).toEqual([3, 4]);
        clock.t += DAY;
        j.remove([99]);
        expect(j.readHeld(0, 100, 100)).toEqual([]);
        expect(j.stats().delivered).toEqual({ depth: 0, bytes: 0, oldestSeq: null, oldestTs: null });
        expect(j.stats().lastSeq).toBe(4);
      });

      it('without keep_delivered, acknowledged rows are deleted and readHeld sees only the backlog', () => {
        const j = make();
        j.append(entries(3));
        j.remove([2]);
        expect(j.readHeld(0, 10, 10).map((e) => [e.seq, e.delivered])).toEqual([[1, false], [3, false]]);
        expect(j.stats().delivered.depth).toBe(0);
      });

      it('purge deletes delivered rows too but counts only the undelivered ones', () => {
        const j = make({ keepDeliveredMs: DAY });
        j.append(entries(3));
        j.remove([1]);
        expect(j.purge()).toBe(2);
        expect(j.stats().drops.purge).toBe(2);
        expect(j.readHeld(0, 10, 10)).toEqual([]);
      });
    });

    it('refuses to work once closed', () => {
      const j = make();
      j.close();
      expect(() => j.append(entries(1))).toThrow(FieldgateError);
      expect(() => j.stats()).toThrow(FieldgateError);
      j.close(); // twice is harmless
    });
  });
}
