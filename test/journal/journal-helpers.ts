// Shared bits of the journal tests: loggers that record, a clock the test moves, entries whose
// payload carries their seq, and temp directories that are always removed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { afterEach } from 'vitest';
import { SqliteJournal, type SqliteJournalOptions } from '../../src/journal/sqlite-journal.js';
import type { Clock } from '../../src/driver-api/index.js';
import type { AppendResult, NewEntry, Qos, RowEncoding } from '../../src/journal/journal.js';

/** An append's outcome without the rows it hands over (those are checked on their own). */
export function counts({ stored, refused, evicted }: AppendResult): Pick<AppendResult, 'stored' | 'refused' | 'evicted'> {
  return { stored, refused, evicted };
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s) as LogLine); } });
  return { logger, lines };
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export class ManualClock implements Clock {
  constructor(public t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
}

/** An entry whose stored bytes are `<seq>|<body>`, so a test can check render saw the right seq. */
export function entry(
  body: string,
  options: { ts?: number; topic?: string; qos?: Qos; retain?: boolean; encoding?: RowEncoding } = {},
): NewEntry {
  return {
    ts: options.ts ?? 1000,
    topic: options.topic ?? 'site/dev/point',
    qos: options.qos ?? 1,
    retain: options.retain ?? false,
    encoding: options.encoding ?? 'text',
    render: (seq) => Buffer.from(`${seq}|${body}`),
  };
}

export function entries(n: number, body = 'x', options: { ts?: number; topic?: string } = {}): NewEntry[] {
  return Array.from({ length: n }, () => entry(body, options));
}

export function makeTempDir(prefix = 'fieldgate-journal-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * SQLite journals in temp directories, closed and removed after each test of the describe block
 * that calls this. `defaults` are laid over the usual test settings; each options() call gets a
 * directory of its own.
 */
export function sqliteJournals(defaults: Partial<SqliteJournalOptions> = {}) {
  const dirs: string[] = [];
  const journals: SqliteJournal[] = [];
  afterEach(() => {
    for (const j of journals.splice(0)) j.close();
    for (const d of dirs.splice(0)) removeDir(d);
  });
  const open = (o: SqliteJournalOptions): SqliteJournal => {
    const j = new SqliteJournal(o);
    j.open();
    journals.push(j);
    return j;
  };
  /** The test closes it itself: afterEach must not close it again. */
  const release = (j: SqliteJournal): void => {
    const i = journals.indexOf(j);
    if (i >= 0) journals.splice(i, 1);
  };
  return {
    options(overrides: Partial<SqliteJournalOptions> = {}): SqliteJournalOptions {
      const dir = makeTempDir();
      dirs.push(dir);
      return {
        path: path.join(dir, 'journal.db'), maxMessages: 100_000, maxBytes: 100_000_000, whenFull: 'drop_oldest',
        synchronous: 'normal', logger: silentLogger(), clock: new ManualClock(), ...defaults, ...overrides,
      };
    },
    open,
    release,
    /** Closes `j` and opens the same file again, as a restart does. */
    reopen(j: SqliteJournal, o: SqliteJournalOptions): SqliteJournal {
      j.close();
      release(j);
      return open(o);
    },
  };
}
