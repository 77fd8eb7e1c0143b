// `fieldgate buffer stats|export|purge`: operator access to the journal, for recovering data
// after an outage or clearing a backlog nobody wants. Works on the file the site file names
// (or --path); safe to run next to a running gateway for stats and export (SQLite WAL readers).
import fs from 'node:fs';
import { SqliteJournal } from '../journal/sqlite-journal.js';
import type { LoadedSite } from '../config/site-config.js';
import { resolveBufferPath } from '../gateway.js';
import { createLogger } from '../util/logger.js';
import { parseDuration, parseSize } from '../util/duration.js';
import { outputClosed, println, type CliIo } from './io.js';

export interface BufferOptions {
  path: string;
  since?: string;
  until?: string;
  yes?: boolean;
}

export function bufferPathOf(site: LoadedSite): string {
  return resolveBufferPath(site);
}

/** Accepts an ISO 8601 time, epoch milliseconds, or a duration meaning "that long ago" (2h). */
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

function openJournal(file: string, site: LoadedSite | undefined): SqliteJournal {
  const buffer = site?.config.buffer ?? {};
  const journal = new SqliteJournal({
    path: file,
    maxMessages: buffer.max_messages ?? 1_000_000,
    maxBytes: parseSize(buffer.max_bytes ?? '256MiB'),
    whenFull: buffer.when_full ?? 'drop_oldest',
    synchronous: buffer.synchronous ?? 'normal',
    logger: createLogger({ level: 'warn', destination: process.stderr }),
    clock: { now: () => Date.now() },
  });
  journal.open();
  return journal;
}

export function bufferCommand(action: string, options: BufferOptions, site: LoadedSite | undefined, io: CliIo): number {
  if (!fs.existsSync(options.path)) {
    println(io.stderr, `no buffer at ${options.path} (nothing journaled yet, or a different buffer.path)`);
    return action === 'stats' ? 0 : 1;
  }
  const journal = openJournal(options.path, site);
  try {
    const now = Date.now();
    if (action === 'stats') {
      const s = journal.stats();
      const drops = Object.entries(s.drops).map(([k, v]) => `${k}=${v}`).join(' ');
      println(io.stdout, `buffer:       ${options.path}`);
      println(io.stdout, `backlog:      ${s.depth} messages, ${s.bytes} bytes (file ${s.fileBytes} bytes)`);
      println(io.stdout, `oldest:       ${s.oldestTs === null ? '-' : `${new Date(s.oldestTs).toISOString()} (${Math.round((now - s.oldestTs) / 1000)} s ago, seq ${s.oldestSeq})`}`);
      println(io.stdout, `last seq:     ${s.lastSeq}`);
      println(io.stdout, `drops:        ${drops}`);
      return 0;
    }
    if (action === 'export') {
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
      for (const e of journal.export(since, until)) {
        // The reader left (`| head`): stop reading the journal, quietly. Leaving the loop closes
        // the export's page iterator.
        if (outputClosed(io.stdout)) return 0;
        const text = e.payload.toString('utf8');
        const payload = Buffer.from(text, 'utf8').equals(e.payload) ? text : undefined;
        println(io.stdout, JSON.stringify({
          seq: e.seq, ts: new Date(e.ts).toISOString(), topic: e.topic, qos: e.qos, retain: e.retain,
          ...(payload === undefined ? { payload_base64: e.payload.toString('base64') } : { payload }),
        }));
        n += 1;
      }
      if (!outputClosed(io.stdout)) println(io.stderr, `exported ${n} messages`);
      return 0;
    }
    if (action === 'purge') {
      if (!options.yes) {
        println(io.stderr, `this deletes ${journal.stats().depth} undelivered messages; run again with --yes to confirm (stop the service first)`);
        return 1;
      }
      println(io.stdout, `purged ${journal.purge()} messages`);
      return 0;
    }
    println(io.stderr, `unknown buffer action "${action}" (stats | export | purge)`);
    return 1;
  } finally {
    journal.close();
  }
}
