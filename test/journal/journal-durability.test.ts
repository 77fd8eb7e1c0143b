// Durability: a child process appends (and removes, like a forwarder) in a loop and reports every
// commit; the test SIGKILLs it at a random moment and checks that everything reported is there,
// contiguous and intact, and that the next run continues the sequence without reusing a seq.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { DURABLE_TOPIC, KEEP, durablePayload } from './fixtures/durable-payload.js';
import { ManualClock, silentLogger } from './journal-helpers.js';
import { tempDirs } from '../support/temp-dirs.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/append-loop.ts', import.meta.url));

interface Reported {
  lastAppended: number;
  lastRemoved: number;
  firstAppended: number | undefined;
  lines: number;
}

/** Runs the child until it has reported `killAfter` commits, then SIGKILLs it. */
function runAndKill(file: string, sync: 'normal' | 'full', killAfter: number): Promise<Reported> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, file, sync], {
      cwd: path.resolve(path.dirname(FIXTURE), '../../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const got: Reported = { lastAppended: 0, lastRemoved: 0, firstAppended: undefined, lines: 0 };
    let buffered = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!; // a partial line was not fully reported: ignore it
      for (const line of lines) {
        const [kind, value] = line.split(' ');
        const seq = Number(value);
        if (kind === 'a') {
          got.firstAppended ??= seq;
          got.lastAppended = seq;
        } else if (kind === 'r') {
          got.lastRemoved = seq;
        }
        got.lines += 1;
      }
      if (got.lines >= killAfter) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child ended by itself (code ${code}): ${stderr}`));
      else resolve(got);
    });
  });
}

describe('SqliteJournal durability under SIGKILL', () => {
  const tempDir = tempDirs('fieldgate-journal-', 'each');

  it('keeps every reported commit, contiguous and intact, across repeated kills', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'journal.db');
    let previousLast = 0;
    for (const sync of ['normal', 'full', 'normal'] as const) {
      const killAfter = 30 + Math.floor(Math.random() * 300);
      const reported = await runAndKill(file, sync, killAfter);
      const context = `sync=${sync} killAfter=${killAfter} reported=${JSON.stringify(reported)}`;
      expect(reported.lastAppended, context).toBeGreaterThan(0);
      // The new run continued the sequence: no seq reused after the previous kill.
      expect(reported.firstAppended, context).toBeGreaterThan(previousLast);

      const journal = new SqliteJournal({
        path: file, maxMessages: 10_000_000, maxBytes: 1e12, whenFull: 'drop_newest', synchronous: 'normal',
        logger: silentLogger(), clock: new ManualClock(),
      });
      journal.open();
      try {
        const stats = journal.stats();
        const rows = journal.readAfter(0, 1_000_000);
        expect(stats.depth, context).toBe(rows.length);
        expect(stats.lastSeq, context).toBeGreaterThanOrEqual(reported.lastAppended);
        expect(rows.at(-1)!.seq, context).toBe(stats.lastSeq);
        expect(rows[0]!.seq, context).toBeGreaterThan(reported.lastRemoved);
        // Everything the child never meant to remove yet is there.
        expect(rows[0]!.seq, context).toBeLessThanOrEqual(Math.max(1, reported.lastAppended - KEEP + 1));
        rows.forEach((r, i) => {
          expect(r.seq, context).toBe(rows[0]!.seq + i);
          expect(r.topic).toBe(DURABLE_TOPIC);
          expect(r.payload.equals(durablePayload(r.seq)), `payload of seq ${r.seq}`).toBe(true);
        });
        previousLast = stats.lastSeq;
      } finally {
        journal.close();
      }
    }
  }, 60_000);
});
