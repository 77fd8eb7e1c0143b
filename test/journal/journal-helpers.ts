// Shared bits of the journal tests: loggers that record, a clock the test moves, entries whose
// payload carries their seq, and temp directories that are always removed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import type { Clock } from '../../src/driver-api/index.js';
import type { NewEntry, Qos, RowEncoding } from '../../src/journal/journal.js';

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
