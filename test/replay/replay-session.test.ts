// ReplaySession's own rules, with the model journal and an uplink that records publishes and
// lets the test acknowledge them: the window, acks that delete nothing, live data first, what is
// reported gone or pending, and where to resume after a failure.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { ReplaySession, type ReplayResult } from '../../src/replay/replay-session.js';
import type { ReplayRequest } from '../../src/replay/replay-request.js';
import type { OutgoingMessage } from '../../src/uplink/uplink.js';
import { entries, entry, ManualClock, silentLogger } from '../journal/journal-helpers.js';

class RecordingUplink extends EventEmitter {
  connected = true;
  readonly waiting: { message: OutgoingMessage; done: (err?: Error) => void }[] = [];
  maxWaiting = 0;
  publish(message: OutgoingMessage, done: (err?: Error) => void): void {
    this.waiting.push({ message, done });
    this.maxWaiting = Math.max(this.maxWaiting, this.waiting.length);
  }
  ackAll(): void {
    for (const w of this.waiting.splice(0)) w.done();
  }
}

function setup(rows: number, delivered: number[]) {
  const journal = new MemoryJournal({ maxMessages: 1000, maxBytes: 1e6, whenFull: 'drop_oldest', logger: silentLogger(), clock: new ManualClock(), keepDeliveredMs: 86_400_000 });
  journal.open();
  journal.append([entry('r', { retain: true }), ...entries(rows - 1)]);
  journal.remove(delivered);
  return journal;
}

function run(journal: MemoryJournal, uplink: RecordingUplink, request: ReplayRequest, extra: { window?: number; backlog?: () => number } = {}) {
  let result: ReplayResult | undefined;
  const session = new ReplaySession({
    source: { readHeld: (a, t, l) => journal.readHeld(a, t, l), lastSeq: () => journal.stats().lastSeq },
    uplink: uplink as never, logger: silentLogger(), clock: new ManualClock(), request,
    window: extra.window ?? 4, rate: 0, liveBacklog: extra.backlog ?? (() => 0), liveWindow: 10,
    done: (r) => { result = r; },
  });
  session.start();
  return { result: () => result, session };
}

const seqOf = (m: OutgoingMessage) => Number(m.payload.toString().split('|')[0]);

describe('ReplaySession', () => {
  it('sends delivered rows in order within its window, unretained, and deletes nothing', async () => {
    const journal = setup(30, Array.from({ length: 25 }, (_, i) => i + 1));
    const before = journal.stats();
    const uplink = new RecordingUplink();
    const sent: number[] = [];
    const r = run(journal, uplink, { id: 'a', range: { kind: 'seq', from: 1, to: 40 } });
    while (!r.result()) {
      sent.push(...uplink.waiting.map((w) => seqOf(w.message)));
      expect(uplink.waiting.every((w) => !w.message.retain)).toBe(true);
      uplink.ackAll();
      await new Promise((res) => setImmediate(res));
    }
    expect(uplink.maxWaiting).toBe(4);
    expect(sent).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(r.result()).toEqual({ id: 'a', ok: true, sent: 25, gone: [], pending: [[26, 30]], last_seq: 30 });
    expect(journal.stats()).toEqual(before);
  });

  it('names the seqs no longer held, and the ones above last_seq are not invented', () => {
    const uplink = new RecordingUplink();
    // Rows 1..8 journaled, 3..5 no longer held; 8 not delivered yet.
    const holes = new MemoryJournal({ maxMessages: 1000, maxBytes: 1e6, whenFull: 'drop_oldest', logger: silentLogger(), clock: new ManualClock() });
    holes.open();
    holes.append(entries(8));
    holes.remove([3, 4, 5]);
    const held = { readHeld: (a: number, t: number, l: number) => holes.readHeld(a, t, l).map((e) => ({ ...e, delivered: e.seq < 8 })) };
    let result: ReplayResult | undefined;
    new ReplaySession({
      source: { ...held, lastSeq: () => 8 }, uplink: uplink as never, logger: silentLogger(), clock: new ManualClock(),
      request: { id: 'g', range: { kind: 'seq', from: 2, to: 20 } }, window: 100, rate: 0, liveBacklog: () => 0, liveWindow: 10,
      done: (r) => { result = r; },
    }).start();
    uplink.ackAll();
    expect(result).toMatchObject({ ok: true, sent: 3, gone: [[3, 5]], pending: [[8, 8]], last_seq: 8 });
  });

  it('waits while the live forwarder has more than a window of backlog', async () => {
    const journal = setup(5, [1, 2, 3, 4, 5]);
    const uplink = new RecordingUplink();
    let backlog = 50;
    run(journal, uplink, { id: 'w', range: { kind: 'seq', from: 1, to: 5 } }, { backlog: () => backlog });
    expect(uplink.waiting).toHaveLength(0);
    backlog = 3;
    await new Promise((res) => setTimeout(res, 120));
    expect(uplink.waiting.length).toBeGreaterThan(0);
  });

  it('reads a long stretch with nothing to send a few chunks per turn, not all at once', async () => {
    let reads = 0;
    let result: ReplayResult | undefined;
    // 5000 rows held, none delivered yet: ten chunks, nothing to send.
    const readHeld = (after: number, to: number, limit: number) => {
      reads += 1;
      const rows = [];
      for (let seq = after + 1; seq <= Math.min(to, after + limit); seq += 1) {
        rows.push({ seq, ts: seq, topic: 't', qos: 1 as const, retain: false, encoding: 'text' as const, payload: Buffer.from('x'), delivered: false });
      }
      return rows;
    };
    new ReplaySession({
      source: { readHeld, lastSeq: () => 5000 },
      uplink: new RecordingUplink() as never, logger: silentLogger(), clock: new ManualClock(),
      request: { id: 'l', range: { kind: 'seq', from: 1, to: 5000 } }, window: 4, rate: 0, liveBacklog: () => 0, liveWindow: 10,
      done: (r) => { result = r; },
    }).start();
    expect(reads).toBe(4);
    await expect.poll(() => result).toBeDefined();
    expect(reads).toBe(11);
    expect(result).toMatchObject({ ok: true, sent: 0, gone: [], pending: [[1, 5000]] });
  });

  it('a failed publish ends the replay with the seq to ask again from', () => {
    const journal = setup(10, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const uplink = new RecordingUplink();
    const r = run(journal, uplink, { id: 'f', range: { kind: 'seq', from: 1, to: 10 } }, { window: 3 });
    uplink.waiting.shift()!.done();
    const second = uplink.waiting.shift()!;
    second.done(new Error('connection lost'));
    expect(r.result()).toMatchObject({ id: 'f', ok: false, sent: 1, error: 'publish failed: connection lost', resume_from_seq: 2 });
  });
});
