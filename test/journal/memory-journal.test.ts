import { describe, expect, it } from 'vitest';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { FieldgateError } from '../../src/util/errors.js';
import { describeJournalContract } from './journal-contract.js';
import { entries, ManualClock, silentLogger } from './journal-helpers.js';

describeJournalContract('MemoryJournal', (options) => {
  const journal = new MemoryJournal(options);
  journal.open();
  return { journal, dispose: () => journal.close() };
});

describe('MemoryJournal', () => {
  const base = { maxMessages: 10, maxBytes: 1000, whenFull: 'drop_oldest' as const, logger: silentLogger(), clock: new ManualClock() };

  it('keeps its content across close and open of the same object', () => {
    const j = new MemoryJournal(base);
    j.open();
    j.append(entries(3));
    j.close();
    j.open();
    expect(j.stats()).toMatchObject({ depth: 3, lastSeq: 3 });
    expect(j.append(entries(1)).stored).toEqual([4]);
  });

  it('rejects a capacity below one message or one byte', () => {
    expect(() => new MemoryJournal({ ...base, maxMessages: 0 }).open()).toThrow(FieldgateError);
    expect(() => new MemoryJournal({ ...base, maxBytes: 0 }).open()).toThrow(FieldgateError);
  });
});
