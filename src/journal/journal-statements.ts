// The prepared statements of one journal connection, made once when SqliteStore is constructed,
// and the two batched writes built on them: multi-row INSERTs for an append and run-wise DELETEs
// for a remove. SqliteStore (sqlite-store.ts) runs them inside its transactions.
import type BetterSqlite3 from 'better-sqlite3';
import { type StoredRow, encodingCode, hasColumn } from './journal-schema.js';
import { seqRuns } from './seq-runs.js';
import type { Planned } from './sqlite-store.js';

// Rows per multi-row INSERT, largest first; the last must be 1 (insertAll below).
const INSERT_CHUNKS = [64, 16, 4, 1];
// Runs of consecutive seqs at least this long are removed with one range DELETE.
const RANGE_REMOVE_MIN = 8;

// Prepared once per connection; every call reuses them. A file that could not take the encoding
// column yet (journal-schema.ts) is written without it; its rows then read as rows of an older
// fieldgate do.
export function prepareStatements(db: BetterSqlite3.Database) {
  const withEncoding = hasColumn(db, 'entries', 'encoding');
  const COLS = `seq, ts, topic, qos, retain, ${withEncoding ? 'encoding' : 'NULL AS encoding'}, payload`;
  const cols = COLS;
  const target = withEncoding ? 'entries (seq, ts, topic, qos, retain, encoding, size, payload)' : 'entries (seq, ts, topic, qos, retain, size, payload)';
  const row = withEncoding ? '(?, ?, ?, ?, ?, ?, ?, ?)' : '(?, ?, ?, ?, ?, ?, ?)';
  // Multi-row INSERTs: one statement step per chunk instead of per row saves about a quarter of
  // an append's cost (measured: 100 rows, 200 µs → 150 µs), and a poll's readings usually come as
  // dozens of rows. Chunk sizes are fixed so every statement is prepared once.
  // Each chunk size binds from one array of its own, refilled for every statement (better-sqlite3
  // copies the values while binding), rather than a new array per statement.
  const width = withEncoding ? 8 : 7;
  const inserts = INSERT_CHUNKS.map((n) => ({
    n, args: new Array<unknown>(n * width), st: db.prepare(`INSERT INTO ${target} VALUES ${Array(n).fill(row).join(', ')}`),
  }));
  const bind = (p: Planned, args: unknown[], at: number): void => {
    args[at] = p.seq;
    args[at + 1] = p.ts;
    args[at + 2] = p.topic;
    args[at + 3] = p.qos;
    args[at + 4] = p.retain ? 1 : 0;
    if (withEncoding) args[at + 5] = encodingCode(p.encoding);
    args[at + width - 2] = p.size;
    args[at + width - 1] = p.payload;
  };
  const insertAll = (rows: readonly Planned[]): void => {
    let i = 0;
    for (const { n, args, st } of inserts) {
      while (rows.length - i >= n) {
        for (let k = 0; k < n; k += 1, i += 1) bind(rows[i]!, args, k * width);
        try {
          st.run(args);
        } finally {
          // The payloads would otherwise stay reachable from here until the next statement.
          args.fill(undefined);
        }
      }
    }
  };
  return {
    cols,
    insertAll,
    setMeta: db.prepare<[number, string]>('UPDATE meta SET value = ? WHERE key = ?'),
    readAfter: db.prepare<[number, number], StoredRow>(`SELECT ${COLS} FROM entries WHERE seq > ? ORDER BY seq LIMIT ?`),
    exportPage: db.prepare<[number, number, number, number], StoredRow>(
      `SELECT ${COLS} FROM entries WHERE seq > ? AND ts >= ? AND ts < ? ORDER BY seq LIMIT ?`),
    oldest: db.prepare<[], { seq: number; ts: number }>('SELECT seq, ts FROM entries ORDER BY seq LIMIT 1'),
    oldestSizes: db.prepare<[], { seq: number; size: number }>('SELECT seq, size FROM entries ORDER BY seq'),
    deleteUpTo: db.prepare<[number]>('DELETE FROM entries WHERE seq <= ?'),
    deleteOne: db.prepare<[number], { size: number }>('DELETE FROM entries WHERE seq = ? RETURNING size'),
    rangeTotals: db.prepare<[number, number], { n: number; b: number | null }>(
      'SELECT count(*) AS n, sum(size) AS b FROM entries WHERE seq BETWEEN ? AND ?'),
    deleteRange: db.prepare<[number, number]>('DELETE FROM entries WHERE seq BETWEEN ? AND ?'),
    deleteAll: db.prepare<[]>('DELETE FROM entries'),
    maxSeq: db.prepare<[], number | null>('SELECT max(seq) FROM entries').pluck(),
    dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

/** Deletes ascending, distinct seqs (unknown ones are skipped); the rows and bytes that went. */
export function removeSorted(st: Statements, seqs: number[]): { n: number; b: number } {
  let n = 0;
  let b = 0;
  for (const { lo, hi } of seqRuns(seqs)) {
    if (hi - lo + 1 >= RANGE_REMOVE_MIN) {
      const t = st.rangeTotals.get(lo, hi)!;
      if (t.n > 0) {
        st.deleteRange.run(lo, hi);
        n += t.n;
        b += t.b ?? 0;
      }
      continue;
    }
    for (let seq = lo; seq <= hi; seq += 1) {
      const row = st.deleteOne.get(seq);
      if (row) {
        n += 1;
        b += row.size;
      }
    }
  }
  return { n, b };
}
