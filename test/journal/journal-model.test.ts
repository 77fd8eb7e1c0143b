// Model-based test: random sequences of operations applied to the SQLite journal and to the
// in-memory model, compared after every step (results, content and stats).
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Journal, JournalStats, NewEntry, Qos, RowEncoding } from '../../src/journal/journal.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { makeTempDir, ManualClock, removeDir, silentLogger } from './journal-helpers.js';

interface EntrySpec {
  ts: number;
  topic: string;
  qos: Qos;
  retain: boolean;
  encoding: RowEncoding;
  body: string;
}

type Op =
  | { kind: 'append'; entries: EntrySpec[] }
  | { kind: 'readAfter'; back: number; limit: number }
  | { kind: 'remove'; picks: number[] }
  | { kind: 'removeRange'; back: number; count: number }
  | { kind: 'export'; since: number; span: number }
  | { kind: 'readHeld'; back: number; span: number; limit: number }
  | { kind: 'tick'; ms: number }
  | { kind: 'reopen' }
  | { kind: 'purge' };

const entrySpec = fc.record({
  ts: fc.integer({ min: 0, max: 50 }),
  topic: fc.constantFrom('a', 'b/c', 'ü/é', 'site/dev/long-point-name'),
  qos: fc.constantFrom<Qos>(0, 1, 2),
  retain: fc.boolean(),
  encoding: fc.constantFrom<RowEncoding>('json', 'cbor', 'text'),
  body: fc.string({ maxLength: 40 }),
});

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('append' as const), entries: fc.array(entrySpec, { maxLength: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('readAfter' as const), back: fc.integer({ min: -2, max: 20 }), limit: fc.integer({ min: 0, max: 10 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), picks: fc.array(fc.nat(), { maxLength: 12 }) }) },
  // What the forwarder does most: acknowledge a run of consecutive seqs (maybe partly gone).
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('removeRange' as const), back: fc.integer({ min: 0, max: 25 }), count: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('export' as const), since: fc.integer({ min: 0, max: 50 }), span: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('readHeld' as const), back: fc.integer({ min: -2, max: 25 }), span: fc.integer({ min: 0, max: 25 }), limit: fc.integer({ min: 0, max: 12 }) }) },
  // Moves time on, so that delivered rows expire (keep_delivered) at the next remove or open.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.constantFrom(1_000, 30_000, 61_000, 200_000) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'purge' }) },
);

const config = fc.record({
  maxMessages: fc.integer({ min: 1, max: 15 }),
  maxBytes: fc.integer({ min: 30, max: 400 }),
  whenFull: fc.constantFrom('drop_oldest' as const, 'drop_newest' as const),
  // Off, and on with a retention that the ticks sometimes pass.
  keepDeliveredMs: fc.constantFrom(0, 0, 100_000, 500_000),
});

function toNew(spec: EntrySpec): NewEntry {
  return { ts: spec.ts, topic: spec.topic, qos: spec.qos, retain: spec.retain, encoding: spec.encoding, render: (seq) => Buffer.from(`${seq}:${spec.body}`) };
}

// The journal id is random per journal; the file size is the SQLite journal's own business.
function comparable(s: JournalStats): Omit<JournalStats, 'fileBytes' | 'journalId' | 'storage'> {
  const { fileBytes: _size, journalId: _id, storage: _storage, ...rest } = s;
  return rest;
}

describe('SqliteJournal against the MemoryJournal model', () => {
  it('behaves like the model after every step of random operation sequences', () => {
    fc.assert(
      fc.property(config, fc.array(op, { minLength: 1, maxLength: 60 }), (cfg, ops) => {
        const dir = makeTempDir('fieldgate-model-');
        const clock = new ManualClock();
        const common = { ...cfg, logger: silentLogger(), clock };
        const model = new MemoryJournal(common);
        const options = { ...common, path: path.join(dir, 'j.db'), synchronous: 'normal' as const };
        let real = new SqliteJournal(options);
        try {
          model.open();
          real.open();
          const both = <T>(f: (j: Journal) => T): [T, T] => [f(real), f(model)];
          for (const o of ops) {
            const lastSeq = model.stats().lastSeq;
            switch (o.kind) {
              case 'append': {
                const [a, b] = both((j) => j.append(o.entries.map(toNew)));
                expect(a).toEqual(b);
                break;
              }
              case 'readAfter': {
                const [a, b] = both((j) => j.readAfter(lastSeq - o.back, o.limit));
                expect(a).toEqual(b);
                break;
              }
              case 'remove': {
                const seqs = o.picks.map((p) => p % (lastSeq + 3));
                both((j) => j.remove(seqs));
                break;
              }
              case 'removeRange': {
                const from = lastSeq - o.back;
                const seqs = Array.from({ length: o.count }, (_, i) => from + i);
                both((j) => j.remove(seqs));
                break;
              }
              case 'export': {
                const [a, b] = both((j) => [...j.export(o.since, o.since + o.span)]);
                expect(a).toEqual(b);
                break;
              }
              case 'readHeld': {
                const from = lastSeq - o.back;
                const [a, b] = both((j) => j.readHeld(from, from + o.span, o.limit));
                expect(a).toEqual(b);
                break;
              }
              case 'tick':
                clock.t += o.ms;
                break;
              case 'reopen':
                real.close();
                real = new SqliteJournal(options);
                real.open();
                // Content survives; the model also runs what an open runs (expiry).
                model.close();
                model.open();
                break;
              case 'purge': {
                const [a, b] = both((j) => j.purge());
                expect(a).toBe(b);
                break;
              }
            }
            expect(comparable(real.stats())).toEqual(comparable(model.stats()));
            expect(real.readAfter(0, 1_000)).toEqual(model.readAfter(0, 1_000));
          }
        } finally {
          real.close();
          model.close();
          removeDir(dir);
        }
      }),
      { numRuns: 60 },
    );
  });
});
