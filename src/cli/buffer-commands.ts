// `fieldgate buffer stats|export|purge`: operator access to the journal, for recovering data
// after an outage or clearing a backlog nobody wants. Works on the file the site file names
// (or --path). stats and export only read (JournalReader): safe next to a running gateway, on a
// full disk, and on a corrupt journal the gateway moved aside (export reads around the damage).
import fs from 'node:fs';
import { SqliteJournal } from '../journal/sqlite-journal.js';
import { JournalReader } from '../journal/journal-reader.js';
import type { ResolvedSite } from '../config/resolved-site.js';
import { bufferForPath } from '../config/resolved-site.js';
import { createLogger } from '../util/logger.js';
import { parseDuration } from '../util/duration.js';
import { outputClosed, println, type CliIo } from './io.js';
import { ClockSegmentFile, clockFileFor } from '../clock/clock-segments.js';
import { type ClockSource, SystemClockSource } from '../clock/clock-source.js';

export interface BufferOptions {
  path: string;
  since?: string;
  until?: string;
  yes?: boolean;
  /** export: the delivered rows kept by buffer.keep_delivered too, marked `"delivered": true`. */
  delivered?: boolean;
  /** stats: where to ask whether the system clock is synchronized (tests replace it). */
  clockSource?: ClockSource;
}

export function bufferPathOf(site: ResolvedSite): string {
  return site.buffer.path;
}

/** Accepts an ISO 8601 time, epoch milliseconds, or a duration meaning "that long ago" (2h). */
/** Rows exported between two looks at whether the output is still read. */
const YIELD_EVERY = 64;

export function parseTimeArg(text: string, now: number): number {
  if (/^\d{10,}$/.test(text)) return Number(text);
  try {
    return now - parseDuration(text);
  } catch {
    const t = Date.parse(text);
    if (Number.isNaN(t)) throw new RangeError(`cannot read "${text}" as a time (use ISO 8601, epoch ms, or a duration such as 2h)`);
    return t;
  }
}

function openJournal(file: string, site: ResolvedSite | undefined): SqliteJournal {
  const buffer = site?.buffer ?? bufferForPath(file);
  const journal = new SqliteJournal({
    path: file,
    maxMessages: buffer.maxMessages,
    maxBytes: buffer.maxBytes,
    whenFull: buffer.whenFull,
    synchronous: buffer.synchronous,
    logger: createLogger({ level: 'warn', destination: process.stderr }),
    clock: { now: () => Date.now() },
  });
  journal.open();
  return journal;
}

export async function bufferCommand(action: string, options: BufferOptions, site: ResolvedSite | undefined, io: CliIo): Promise<number> {
  if (!['stats', 'export', 'purge'].includes(action)) {
    println(io.stderr, `unknown buffer action "${action}" (stats | export | replay | purge)`);
    return 1;
  }
  if (!fs.existsSync(options.path)) {
    println(io.stderr, `no buffer at ${options.path} (nothing journaled yet, or a different buffer.path)`);
    return action === 'stats' ? 0 : 1;
  }
  if (action === 'purge') return purge(options, site, io);
  const reader = JournalReader.open(options.path);
  try {
    if (reader.mode === 'exclusive') println(io.stderr, 'note: the disk is full; the journal was opened with its WAL index in memory (read only)');
    return action === 'stats' ? stats(reader, options, io) : await exportRows(reader, options, io);
  } finally {
    reader.close();
  }
}

function stats(reader: JournalReader, options: BufferOptions, io: CliIo): number {
  const now = Date.now();
  const s = reader.stats();
  const drops = Object.entries(s.drops).map(([k, v]) => `${k}=${v}`).join(' ');
  println(io.stdout, `buffer:       ${options.path}`);
  println(io.stdout, `journal:      ${s.journalId}`);
  println(io.stdout, `backlog:      ${s.depth} messages, ${s.bytes} bytes (file ${s.fileBytes} bytes)`);
  println(io.stdout, `oldest:       ${s.oldestTs === null ? '-' : `${new Date(s.oldestTs).toISOString()} (${Math.round((now - s.oldestTs) / 1000)} s ago, seq ${s.oldestSeq})`}`);
  const d = s.delivered;
  if (d.depth > 0) {
    println(io.stdout, `delivered:    ${d.depth} messages, ${d.bytes} bytes kept for replay (keep_delivered), from seq ${d.oldestSeq} (${new Date(d.oldestTs!).toISOString()})`);
  }
  println(io.stdout, `last seq:     ${s.lastSeq}`);
  println(io.stdout, `drops:        ${drops}`);
  clockLines(options, io);
  return 0;
}

/** Warns while the system clock is unsynchronized, and names readings stamped while it was. */
function clockLines(options: BufferOptions, io: CliIo): void {
  const source = options.clockSource ?? new SystemClockSource();
  if (source.synchronized() === false) {
    println(io.stdout, 'warning:      the system clock is not synchronized: new readings wait for a sync (then re-stamped) or go out flagged "clock":"unsynced"');
  }
  const open = new ClockSegmentFile(clockFileFor(options.path)).read().filter((s) => !s.final);
  if (open.length === 0) return;
  const boot = source.bootId();
  const seqs = (s: { fromSeq: number; toSeq?: number }) => `${s.fromSeq}-${s.toSeq ?? 'now'}`;
  const mine = open.filter((s) => s.boot === boot);
  const lost = open.filter((s) => s.boot !== boot);
  if (mine.length > 0) println(io.stdout, `clock:        seqs ${mine.map(seqs).join(', ')} stamped by an unsynchronized clock; re-stamped once it is synchronized`);
  if (lost.length > 0) println(io.stdout, `clock:        seqs ${lost.map(seqs).join(', ')} stamped by an unsynchronized clock before a reboot; published flagged "clock":"unsynced"`);
}

async function exportRows(reader: JournalReader, options: BufferOptions, io: CliIo): Promise<number> {
  const now = Date.now();
  let since: number;
  let until: number;
  try {
    since = options.since === undefined ? 0 : parseTimeArg(options.since, now);
    until = options.until === undefined ? Number.MAX_SAFE_INTEGER : parseTimeArg(options.until, now);
  } catch (err) {
    println(io.stderr, `fieldgate buffer export: ${(err as Error).message}`);
    return 64;
  }
  let n = 0;
  let gaps = 0;
  const rows = reader.export(since, until, (gap) => {
    gaps += 1;
    const upTo = Number.isFinite(gap.before) ? `before seq ${gap.before}` : 'to the end';
    println(io.stderr, `unreadable: rows after seq ${gap.after} ${upTo} (${gap.error})`);
  }, { delivered: options.delivered === true });
  for (const e of rows) {
    // A failed write (EPIPE) is reported on a later turn of the event loop: give it one now and
    // then, or a fast loop would write the whole journal into a pipe nobody reads.
    if (n % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
    // The reader left (`| head`): stop reading the journal, quietly. Leaving the loop closes the
    // export's page iterator.
    if (outputClosed(io.stdout)) return 0;
    const text = e.payload.toString('utf8');
    const payload = Buffer.from(text, 'utf8').equals(e.payload) ? text : undefined;
    println(io.stdout, JSON.stringify({
      seq: e.seq, ts: new Date(e.ts).toISOString(), topic: e.topic, qos: e.qos, retain: e.retain,
      ...(payload === undefined ? { payload_base64: e.payload.toString('base64') } : { payload }),
      ...(e.delivered ? { delivered: true } : {}),
    }));
    n += 1;
  }
  await new Promise((resolve) => setImmediate(resolve));
  if (outputClosed(io.stdout)) return 0;
  println(io.stderr, `exported ${n} messages${gaps > 0 ? `; ${gaps} damaged stretch(es) skipped` : ''}`);
  return gaps > 0 ? 2 : 0;
}

function purge(options: BufferOptions, site: ResolvedSite | undefined, io: CliIo): number {
  const journal = openJournal(options.path, site);
  try {
    if (!options.yes) {
      println(io.stderr, `this deletes ${journal.stats().depth} undelivered messages; run again with --yes to confirm (stop the service first)`);
      return 1;
    }
    println(io.stdout, `purged ${journal.purge()} messages`);
    return 0;
  } finally {
    journal.close();
  }
}
