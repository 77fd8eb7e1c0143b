import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { AppendQueue } from '../../src/journal/append-queue.js';
import type { AppendResult, Journal, NewEntry } from '../../src/journal/journal.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { counts } from './journal-helpers.js';

const turn = () => new Promise<void>((r) => setImmediate(r));

function entry(body: string): NewEntry {
  return { ts: 1000, topic: 'plant1/dev/p', qos: 1, retain: false, encoding: 'text', render: (seq) => Buffer.from(`${seq}|${body}`) };
}

const opened: MemoryJournal[] = [];
afterEach(() => {
  for (const j of opened.splice(0)) j.close();
});

/** A MemoryJournal that records the size of every append call; closed after the test. */
function journal(options: { maxMessages?: number; whenFull?: 'drop_oldest' | 'drop_newest' } = {}) {
  const j = new MemoryJournal({
    maxMessages: options.maxMessages ?? 1_000_000,
    maxBytes: 1e12,
    whenFull: options.whenFull ?? 'drop_oldest',
    logger: pino({ level: 'silent' }),
    clock: { now: () => 0 },
  });
  j.open();
  opened.push(j);
  const calls: number[] = [];
  const append = j.append.bind(j);
  j.append = (entries: NewEntry[]) => {
    calls.push(entries.length);
    return append(entries);
  };
  return { j, calls, bodies: () => j.readAfter(0, 1e6).map((e) => e.payload.toString()) };
}

describe('AppendQueue', () => {
  it('commits everything pushed within one event-loop turn in one append, in order', async () => {
    const { j, calls, bodies } = journal();
    const commits: Array<[AppendResult, number]> = [];
    const q = new AppendQueue({ journal: j, onCommit: (r, n) => commits.push([r, n]) });
    q.push([entry('a'), entry('b')]);
    q.push([entry('c')]);
    q.push([]);
    q.push([entry('d')]);
    expect(calls).toEqual([]);
    expect(q.size).toBe(4);
    await turn();
    expect(calls).toEqual([4]);
    expect(q.size).toBe(0);
    expect(bodies()).toEqual(['1|a', '2|b', '3|c', '4|d']);
    expect(commits.map(([r, n]) => [counts(r), n])).toEqual([[{ stored: [1, 2, 3, 4], refused: 0, evicted: 0 }, 4]]);
    // The forwarder gets the committed rows with the outcome (AppendResult.rows).
    expect(commits[0]![0].rows!.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
  });

  it('pushes in different turns make different transactions', async () => {
    const { j, calls } = journal();
    const q = new AppendQueue({ journal: j });
    q.push([entry('a')]);
    await turn();
    q.push([entry('b'), entry('c')]);
    await turn();
    expect(calls).toEqual([1, 2]);
  });

  it('an empty push schedules nothing', async () => {
    const { j, calls } = journal();
    let commits = 0;
    const q = new AppendQueue({ journal: j, onCommit: () => (commits += 1) });
    q.push([]);
    await turn();
    expect(calls).toEqual([]);
    expect(commits).toBe(0);
  });

  it.each([
    // [maxBatch, push sizes within one turn, expected append sizes]
    [3, [1, 1, 1, 1], [3, 1]],
    [3, [5], [5]],
    [3, [2, 2, 2], [4, 2]],
    [4, [1, 1, 1, 1, 1, 1, 1, 1, 1], [4, 4, 1]],
    [1, [1, 1, 1], [1, 1, 1]],
  ])('maxBatch %i with pushes %j appends %j', async (maxBatch, pushes, expected) => {
    const { j, calls, bodies } = journal();
    const q = new AppendQueue({ journal: j, maxBatch });
    let n = 0;
    for (const size of pushes) q.push(Array.from({ length: size }, () => entry(String(n++))));
    await turn();
    await turn();
    expect(calls).toEqual(expected);
    expect(bodies()).toEqual(Array.from({ length: n }, (_, i) => `${i + 1}|${i}`));
  });

  it('reaching maxBatch flushes synchronously, inside push', () => {
    const { j, calls } = journal();
    const q = new AppendQueue({ journal: j, maxBatch: 2 });
    q.push([entry('a')]);
    expect(calls).toEqual([]);
    q.push([entry('b')]);
    expect(calls).toEqual([2]);
    expect(q.size).toBe(0);
  });

  it('flush() commits at once (shutdown) and the scheduled flush then finds nothing', async () => {
    const { j, calls } = journal();
    const q = new AppendQueue({ journal: j });
    q.push([entry('a'), entry('b')]);
    q.flush();
    expect(calls).toEqual([2]);
    await turn();
    expect(calls).toEqual([2]);
  });

  it('reports refused and evicted entries through onCommit', async () => {
    const full = journal({ maxMessages: 2, whenFull: 'drop_newest' });
    const oldest = journal({ maxMessages: 2, whenFull: 'drop_oldest' });
    const got: Array<[AppendResult, number]> = [];
    for (const { j } of [full, oldest]) {
      const q = new AppendQueue({ journal: j, onCommit: (r, n) => got.push([r, n]) });
      q.push([entry('a'), entry('b'), entry('c')]);
      q.flush();
    }
    expect(got.map(([r, n]) => [counts(r), n])).toEqual([
      [{ stored: [1, 2], refused: 1, evicted: 0 }, 3],
      [{ stored: [1, 2, 3], refused: 0, evicted: 1 }, 3],
    ]);
    expect(got.map(([r]) => r.rows?.map((row) => row.seq))).toEqual([[1, 2], undefined]);
  });

  it('a throwing journal reports the lost batch through onError and the queue keeps working', async () => {
    let fail = true;
    const appended: number[] = [];
    const fake: Journal = {
      append(entries) {
        if (fail) throw new Error('disk I/O error');
        appended.push(entries.length);
        return { stored: entries.map((_, i) => i + 1), refused: 0, evicted: 0 };
      },
      readAfter: () => [],
      readHeld: () => [],
      remove: () => undefined,
      stats: () => { throw new Error('unused'); },
      export: () => [],
      purge: () => 0,
      close: () => undefined,
    };
    const errors: Array<[string, number]> = [];
    const commits: number[] = [];
    const q = new AppendQueue({
      journal: fake,
      onError: (err, lost) => errors.push([(err as Error).message, lost]),
      onCommit: (_r, n) => commits.push(n),
    });
    q.push([entry('a'), entry('b'), entry('c')]);
    await turn();
    expect(errors).toEqual([['disk I/O error', 3]]);
    expect(commits).toEqual([]);
    expect(q.size).toBe(0);
    fail = false;
    q.push([entry('d')]);
    await turn();
    expect(appended).toEqual([1]);
    expect(commits).toEqual([1]);
  });

  describe('with an interval (buffer.commit_interval)', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('gathers pushes of several turns into one append, intervalMs after the first of them', async () => {
      vi.useFakeTimers();
      const { j, calls, bodies } = journal();
      const q = new AppendQueue({ journal: j, intervalMs: 500 });
      q.push([entry('a')]);
      await vi.advanceTimersByTimeAsync(200);
      q.push([entry('b'), entry('c')]);
      await vi.advanceTimersByTimeAsync(299);
      // A later push does not push the commit back: the first reading waits at most 500 ms.
      q.push([entry('d')]);
      expect(calls).toEqual([]);
      expect(q.size).toBe(4);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls).toEqual([4]);
      expect(bodies()).toEqual(['1|a', '2|b', '3|c', '4|d']);
      // The next reading starts a new wait.
      q.push([entry('e')]);
      await vi.advanceTimersByTimeAsync(499);
      expect(calls).toEqual([4]);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls).toEqual([4, 1]);
    });

    it('maxBatch still commits at once, and the wait starts again with the next push', async () => {
      vi.useFakeTimers();
      const { j, calls } = journal();
      const q = new AppendQueue({ journal: j, intervalMs: 500, maxBatch: 3 });
      q.push([entry('a'), entry('b')]);
      await vi.advanceTimersByTimeAsync(400);
      q.push([entry('c')]);
      expect(calls).toEqual([3]);
      q.push([entry('d')]);
      // The first batch's timer was cancelled: nothing is committed at 500 ms.
      await vi.advanceTimersByTimeAsync(499);
      expect(calls).toEqual([3]);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls).toEqual([3, 1]);
    });

    it('flush() commits what waits at once and cancels the wait', async () => {
      vi.useFakeTimers();
      const { j, calls } = journal();
      const commits: number[] = [];
      const q = new AppendQueue({ journal: j, intervalMs: 10_000, onCommit: (_r, n) => commits.push(n) });
      q.push([entry('a'), entry('b')]);
      q.flush();
      expect(calls).toEqual([2]);
      await vi.advanceTimersByTimeAsync(20_000);
      expect(calls).toEqual([2]);
      expect(commits).toEqual([2]);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('an interval of 0 commits at the end of the turn, as without one', async () => {
      const { j, calls } = journal();
      const q = new AppendQueue({ journal: j, intervalMs: 0 });
      q.push([entry('a')]);
      q.push([entry('b')]);
      await turn();
      expect(calls).toEqual([2]);
    });
  });

  it('without callbacks a throwing journal does not throw out of push or flush', async () => {
    const fake = { append: () => { throw new Error('closed'); } } as unknown as Journal;
    const q = new AppendQueue({ journal: fake, maxBatch: 1 });
    expect(() => q.push([entry('a')])).not.toThrow();
    expect(() => q.flush()).not.toThrow();
  });
});
