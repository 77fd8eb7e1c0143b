// `fieldgate buffer stats` warns while the system clock is unsynchronized and names the readings
// stamped by an unsynchronized clock (this boot: corrected later; an earlier boot: flagged).
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { pino } from 'pino';
import { bufferCommand } from '../../src/cli/buffer-commands.js';
import { ClockSegmentFile, clockFileFor } from '../../src/clock/clock-segments.js';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { entries } from '../journal/journal-helpers.js';
import { tempDirs } from '../support/temp-dirs.js';

const tempDir = tempDirs('fieldgate-cli-clock-');

it('stats warns while unsynchronized and names unsynchronized readings by boot', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'buffer.db');
  const j = new SqliteJournal({
    path: file, maxMessages: 100, maxBytes: 1e6, whenFull: 'drop_oldest', synchronous: 'normal', logger: pino({ level: 'silent' }), clock: { now: () => 0 },
  });
  j.open();
  j.append(entries(10));
  j.close();
  new ClockSegmentFile(clockFileFor(file)).write([
    { boot: 'old', offset: 0, fromSeq: 1, toSeq: 4, correction: 0, final: false },
    { boot: 'now', offset: 0, fromSeq: 8, correction: 0, final: false },
  ]);
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  const source = { synchronized: () => false, wallMs: () => 0, monotonicMs: () => 0, bootId: () => 'now' };
  expect(await bufferCommand('stats', { path: file, clockSource: source }, undefined, { stdout, stderr: new PassThrough(), env: {} })).toBe(0);
  expect(out).toMatch(/warning:\s+the system clock is not synchronized/);
  expect(out).toMatch(/seqs 8-now stamped by an unsynchronized clock; re-stamped/);
  expect(out).toMatch(/seqs 1-4 .* before a reboot; published flagged "clock":"unsynced"/);
});
