// Clock handling with an injected clock source: an unsynchronized start, a sync that moves the
// clock 3 years forward (rows re-stamped), a backward jump, a restart before any sync (rows
// flagged), the hold limit, and the common case (synchronized: nothing touched, nothing written).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClockGuard } from '../../src/clock/clock-guard.js';
import { ClockSegmentFile } from '../../src/clock/clock-segments.js';
import type { ClockSource } from '../../src/clock/clock-source.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import type { NewEntry } from '../../src/journal/journal.js';
import { payloadRenderer } from '../../src/mapping/payload.js';
import { CborCodec } from '../../src/wire/cbor-codec.js';
import { unpackMessage } from '../../src/wire/unpack.js';
import { captureLogger, ManualClock, silentLogger } from '../journal/journal-helpers.js';
import { tempDirs } from '../support/temp-dirs.js';

const YEAR = 365 * 86_400_000;
const STALE = Date.parse('2023-01-01T00:00:00Z');

class FakeClock implements ClockSource {
  constructor(public wall: number, public mono: number, public synced: boolean | undefined, public boot = 'boot-1') {}
  synchronized() { return this.synced; }
  wallMs() { return this.wall; }
  monotonicMs() { return this.mono; }
  bootId() { return this.boot; }
  advance(ms: number) {
    this.wall += ms;
    this.mono += ms;
  }
}

const cbor = new CborCodec();
function reading(ts: number, encoding: 'json' | 'cbor'): NewEntry {
  return { ts, topic: 'p/d/x', qos: 1, retain: false, encoding, render: payloadRenderer('json', { value: 1.5, ts, unit: 'V' }, encoding, cbor) };
}
const tsOf = (payload: Buffer) => {
  const row = unpackMessage(payload)[0]!;
  return typeof row.ts === 'number' ? row.ts : Date.parse(row.ts);
};
const flagOf = (payload: Buffer) => unpackMessage(payload)[0]!.clock;

describe('ClockGuard', () => {
  const tempDir = tempDirs('fieldgate-clock-', 'each');

  function setup(clock: FakeClock, file?: string, journal?: MemoryJournal) {
    const dir = tempDir();
    const j = journal ?? new MemoryJournal({ maxMessages: 1000, maxBytes: 1e6, whenFull: 'drop_oldest', logger: silentLogger(), clock: new ManualClock() });
    if (!journal) j.open();
    const segments = new ClockSegmentFile(file ?? path.join(dir, '.buffer.db.clock'));
    let changes = 0;
    const log = captureLogger();
    const guard = new ClockGuard({
      source: clock, file: segments, logger: log.logger, holdMs: 60_000,
      lastSeq: () => j.stats().lastSeq, oldestHeldSeq: () => j.stats().oldestSeq ?? j.stats().lastSeq + 1,
      onChange: () => { changes += 1; },
    });
    guard.open();
    return { j, guard, segments, changes: () => changes, lines: log.lines };
  }

  it('holds readings taken before the first sync, then re-stamps them by the +3 years it measured', () => {
    const clock = new FakeClock(STALE, 5_000, false);
    const { j, guard, changes, lines } = setup(clock);
    expect(guard.synchronized).toBe(false);
    expect(lines.some((l) => /not synchronized/.test(l.msg))).toBe(true);
    j.append([reading(clock.wall, 'json'), reading(clock.wall + 10, 'cbor')]);
    guard.connected();
    expect(guard.restamp(j.readAfter(0, 10))).toEqual([]);
    // NTP reaches a server: the wall clock steps 3 years forward and the system says synchronized.
    clock.advance(1000);
    clock.wall += 3 * YEAR;
    clock.synced = true;
    guard.sample();
    expect(guard.synchronized).toBe(true);
    expect(changes()).toBe(1);
    j.append([reading(clock.wall, 'json')]);
    const out = guard.restamp(j.readAfter(0, 10));
    expect(out.map((r) => tsOf(r.payload))).toEqual([STALE + 3 * YEAR, STALE + 10 + 3 * YEAR, clock.wall]);
    expect(out.map((r) => flagOf(r.payload))).toEqual([undefined, undefined, undefined]);
    // Nothing else in the payload changed.
    expect(out[0]!.payload.toString()).toBe(j.readAfter(0, 1)[0]!.payload.toString().replace('2023-01-01T00:00:00.000Z', new Date(STALE + 3 * YEAR).toISOString()));
  });

  it('a backward jump while unsynchronized re-stamps what came before; the sync then makes it final', () => {
    const clock = new FakeClock(STALE + YEAR, 5_000, false);
    const { j, guard } = setup(clock);
    j.append([reading(clock.wall, 'json')]);
    clock.advance(1000);
    clock.wall -= 3_600_000; // someone set the clock back an hour; still not synchronized
    guard.sample();
    j.append([reading(clock.wall, 'json')]);
    guard.connected();
    expect(guard.restamp(j.readAfter(0, 10))).toEqual([]); // still waiting for a sync
    clock.advance(1000);
    clock.synced = true; // synchronized without a further step
    guard.sample();
    const out = guard.restamp(j.readAfter(0, 10));
    expect(out.map((r) => tsOf(r.payload))).toEqual([STALE + YEAR - 3_600_000, STALE + YEAR - 3_599_000]);
  });

  it('rows of a boot that ended before any sync are published flagged "clock":"unsynced", uncorrected', () => {
    const clock = new FakeClock(STALE, 5_000, false, 'boot-1');
    const first = setup(clock);
    first.j.append([reading(clock.wall, 'json'), reading(clock.wall + 1, 'cbor')]);
    first.guard.stop();
    // Power cut; the next boot has a synchronized clock (or syncs later: the old rows stay flagged).
    const next = new FakeClock(Date.parse('2026-11-30T00:00:00Z'), 3_000, true, 'boot-2');
    const second = setup(next, first.segments.file, first.j);
    first.j.append([reading(next.wall, 'json')]);
    second.guard.connected();
    const out = second.guard.restamp(first.j.readAfter(0, 10));
    expect(out.map((r) => flagOf(r.payload))).toEqual(['unsynced', 'unsynced', undefined]);
    expect(out.map((r) => tsOf(r.payload))).toEqual([STALE, STALE + 1, next.wall]);
  });

  it('a restart within the same boot, still unsynchronized, can still be corrected at the sync', () => {
    const clock = new FakeClock(STALE, 5_000, false);
    const first = setup(clock);
    first.j.append([reading(clock.wall, 'json')]);
    first.guard.stop();
    clock.advance(2000);
    const second = setup(clock, first.segments.file, first.j);
    first.j.append([reading(clock.wall, 'json')]);
    clock.wall += YEAR;
    clock.synced = true;
    second.guard.sample();
    expect(second.guard.restamp(first.j.readAfter(0, 10)).map((r) => tsOf(r.payload))).toEqual([STALE + YEAR, STALE + 2000 + YEAR]);
  });

  it('the service restarting in the same boot after the clock was synchronized corrects what it held', () => {
    const clock = new FakeClock(STALE, 5_000, false);
    const first = setup(clock);
    first.j.append([reading(clock.wall, 'json')]);
    first.guard.stop();
    clock.advance(2000);
    clock.wall += YEAR;
    clock.synced = true;
    const second = setup(clock, first.segments.file, first.j);
    expect(second.guard.synchronized).toBe(true);
    second.guard.connected();
    expect(second.guard.restamp(first.j.readAfter(0, 10)).map((r) => [tsOf(r.payload), flagOf(r.payload)])).toEqual([[STALE + YEAR, undefined]]);
  });

  it('after holdMs connected without a sync, held rows go out flagged', () => {
    const clock = new FakeClock(STALE, 5_000, false);
    const { j, guard, changes } = setup(clock);
    j.append([reading(clock.wall, 'json')]);
    guard.connected();
    clock.advance(59_000);
    guard.sample();
    expect(guard.restamp(j.readAfter(0, 10))).toEqual([]);
    clock.advance(1_000);
    guard.sample();
    expect(changes()).toBe(1);
    expect(guard.restamp(j.readAfter(0, 10)).map((r) => flagOf(r.payload))).toEqual(['unsynced']);
  });

  it('synchronized (or unknown): restamp returns its input as it is and no file is written', () => {
    for (const synced of [true, undefined]) {
      const clock = new FakeClock(Date.parse('2026-11-30T00:00:00Z'), 5_000, synced);
      const { j, guard, segments } = setup(clock);
      j.append([reading(clock.wall, 'json')]);
      const rows = j.readAfter(0, 10);
      clock.advance(1000);
      clock.wall += 60_000; // a step while synchronized is only logged
      guard.sample();
      expect(guard.restamp(rows)).toBe(rows);
      expect(fs.existsSync(segments.file)).toBe(false);
    }
  });
});
