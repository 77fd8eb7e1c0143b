import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Counters, addDrops, emptyCountersAt, withCounts } from '../../src/journal/journal-counters.js';
import { openDatabase } from '../../src/journal/journal-database.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';

const base: Counters = {
  depth: 5, bytes: 500, deliveredDepth: 2, deliveredBytes: 200, undeliveredFrom: 8, lastSeq: 12, persistedSeq: 10,
  drops: { drop_oldest: 1, drop_newest: 2, purge: 3 }, dropsDirty: true,
};

describe('withCounts', () => {
  it.each<[string, Partial<Counters>]>([
    ['nothing', {}],
    ['a count to zero', { depth: 0, bytes: 0 }],
    ['a flag to false', { dropsDirty: false }],
    ['seqs', { lastSeq: 20, persistedSeq: 20, undeliveredFrom: 13 }],
    ['delivered counts', { deliveredDepth: 0, deliveredBytes: 0 }],
    ['the drops', { drops: { drop_oldest: 9, drop_newest: 9, purge: 9 } }],
  ])('replaces exactly the fields given: %s', (_name, changes) => {
    const before = structuredClone(base);
    expect(withCounts(base, changes)).toEqual({ ...base, ...changes });
    expect(base).toEqual(before);
  });

  it('builds every copy with its fields in one order, the order of the counters read from a file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-counters-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const db = openDatabase(path.join(dir, 'j.db'), { synchronous: 'normal' });
    cleanups.push(() => db.close());
    const loaded = new SqliteStore(db, { maxMessages: 10, whenFull: 'drop_oldest', keepDelivered: false }).load();
    const order = Object.keys(loaded);
    for (const c of [emptyCountersAt(7), withCounts(base, { depth: 1 }), withCounts(emptyCountersAt(0), { persistedSeq: 0 })]) {
      expect(Object.keys(c)).toEqual(order);
      expect(Object.keys(c.drops)).toEqual(Object.keys(loaded.drops));
    }
  });
});

describe('addDrops', () => {
  it('adds per reason, a reason not given adds nothing, and the input is left alone', () => {
    expect(addDrops(base.drops, { drop_newest: 4 })).toEqual({ drop_oldest: 1, drop_newest: 6, purge: 3 });
    expect(addDrops(base.drops, { drop_oldest: 1, purge: 2 })).toEqual({ drop_oldest: 2, drop_newest: 2, purge: 5 });
    expect(addDrops(base.drops, {})).toEqual(base.drops);
    expect(base.drops).toEqual({ drop_oldest: 1, drop_newest: 2, purge: 3 });
  });
});

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});
