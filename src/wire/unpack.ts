// The reference consumer of fieldgate messages: turns one MQTT payload — a single reading row or
// a pack of rows — into rows, and drops the duplicates that at-least-once delivery brings.
// docs/consumers.md describes the same format in prose; this file is the executable version.
import { CborCodec } from './cbor-codec.js';
import { entriesObject } from './entries-object.js';
import { PACK_VERSION, isPlainObject } from './pack-codec.js';
import { inferEncoding } from './row-encoding.js';

/**
 * One row as a single message would carry it: per-point `{value, ts, seq, unit?, …}` or batch
 * `{ts, seq, values?, errors?}`. `ts` is an ISO 8601 string in JSON and epoch ms in CBOR.
 */
export type UnpackedRow = Record<string, unknown> & { seq: number; ts: string | number };

export class UnpackError extends Error {}

/**
 * Rows carried by one payload, oldest first. A payload that is neither a fieldgate JSON/CBOR
 * map nor a pack (a `payload: value` message, say) throws UnpackError.
 * Note: JSON.parse rounds integers beyond 2^53; consumers of 64-bit counters in JSON need a
 * parser that keeps them (CBOR keeps them as bigint).
 */
export function unpackMessage(payload: Uint8Array, cbor: CborCodec = new CborCodec()): UnpackedRow[] {
  // A consumer has only the bytes (MQTT 3.1.1 carries no content type), so it reads them.
  const encoding = inferEncoding(payload);
  let body: unknown;
  try {
    if (encoding === 'json') body = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
    else if (encoding === 'cbor') body = cbor.decode(payload);
  } catch (err) {
    throw new UnpackError(`payload is not valid ${encoding}: ${(err as Error).message}`);
  }
  if (!isPlainObject(body)) throw new UnpackError('payload is not a fieldgate JSON or CBOR map');
  if (!('pack' in body)) {
    if (typeof body.seq !== 'number') throw new UnpackError('payload has no seq');
    return [body as UnpackedRow];
  }
  return unpackRows(body);
}

function unpackRows(pack: Record<string, unknown>): UnpackedRow[] {
  if (pack.pack !== PACK_VERSION) throw new UnpackError(`unknown pack version ${String(pack.pack)}`);
  const n = pack.n;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new UnpackError('pack has no valid n');
  const seqs = series(pack.seq, pack.dseq, 1, n, 'seq');
  const isoTs = typeof pack.ts === 'string';
  const base = isoTs ? Date.parse(pack.ts as string) : pack.ts;
  const times = series(base, pack.dts, 0, n, 'ts');
  const cols = pack.cols;
  if (!isPlainObject(cols)) throw new UnpackError('pack has no cols');
  const rows: UnpackedRow[] = [];
  for (let i = 0; i < n; i++) {
    const fields: [string, unknown][] = [['ts', isoTs ? new Date(times[i]!).toISOString() : times[i]], ['seq', seqs[i]]];
    for (const [key, col] of Object.entries(cols)) {
      if (isPlainObject(col)) {
        const members: [string, unknown][] = [];
        for (const [member, c] of Object.entries(col)) {
          const v = cell(c, i, n, `${key}.${member}`);
          if (v !== null) members.push([member, v]);
        }
        if (members.length > 0) fields.push([key, entriesObject(members)]);
      } else {
        const v = cell(col, i, n, key);
        if (v !== null) fields.push([key, v]);
      }
    }
    rows.push(entriesObject(fields) as UnpackedRow);
  }
  return rows;
}

/** Row i of a column: an array has one entry per row (null = absent); anything else is constant. */
function cell(col: unknown, i: number, n: number, name: string): unknown {
  if (!Array.isArray(col)) return col;
  if (col.length !== n) throw new UnpackError(`column ${name} has ${col.length} entries for ${n} rows`);
  return col[i] as unknown;
}

/** base, then base + step… where step is absent (`dflt`), one number, or the list of n-1 steps. */
function series(base: unknown, step: unknown, dflt: number, n: number, name: string): number[] {
  if (typeof base !== 'number' || !Number.isFinite(base)) throw new UnpackError(`pack has no valid ${name}`);
  const out = [base];
  if (Array.isArray(step) && step.length !== n - 1) throw new UnpackError(`d${name} has ${step.length} steps for ${n} rows`);
  for (let i = 1; i < n; i++) {
    const d: unknown = step === undefined ? dflt : Array.isArray(step) ? step[i - 1] : step;
    if (typeof d !== 'number') throw new UnpackError(`d${name} is not a number`);
    out.push(out[i - 1]! + d);
  }
  return out;
}

/**
 * Remembers the seqs seen recently, to drop duplicates. fieldgate resends everything not yet
 * acknowledged after a connection loss, and with packing the order across topics may shift by
 * up to one read chunk; seqs more than `horizon` below the highest seen are treated as seen.
 */
export class SeqWindow {
  private readonly seen = new Set<number>();
  private highest = 0;

  constructor(private readonly horizon = 65_536) {}

  /** True the first time a seq is offered, false for a duplicate. */
  accept(seq: number): boolean {
    if (seq <= this.highest - this.horizon || this.seen.has(seq)) return false;
    this.seen.add(seq);
    if (seq > this.highest) {
      this.highest = seq;
      if (this.seen.size > this.horizon * 2) {
        for (const s of this.seen) if (s <= this.highest - this.horizon) this.seen.delete(s);
      }
    }
    return true;
  }
}
