// The packed wire format: several journal rows of one topic in one MQTT message, stored by
// column so point names, units and the timestamp text are written once per pack instead of once
// per row. docs/consumers.md is the specification; unpack.ts is the reference decoder.
//
//   {"pack":1,"n":3,"seq":1001,"dseq":[2,1],"ts":"2026-11-26T06:40:00.123Z","dts":1000,
//    "cols":{"values":{"voltage_l1":[231.4,231.5,231.3],"pf":0.98}}}
//
// - seq of row 0 is `seq`; each next row adds `dseq` (absent: 1; a number: that, every time; an
//   array: the n-1 steps). `ts` / `dts` work the same way (dts absent: 0), in milliseconds.
// - `cols` mirrors the rows' fields: an array holds one entry per row, null where the row has
//   no such field; a plain value means every row has that same value; an object is a group
//   (`values`, `errors`) whose members follow the same two rules.
// A row can join a pack only if it is canonical: a map with `ts` and `seq` (= its journal seq),
// other fields being scalars or non-empty maps of scalars, and no null anywhere. Anything else
// (bare-value payloads, readings with quality bad in per-point JSON, retained rows) travels
// alone, so the format needs no escape for "absent" versus "null".
import type { CborCodec } from './cbor-codec.js';
import { entriesObject } from './entries-object.js';
import type { RowEncoding } from './row-encoding.js';

/** The encodings a pack can be written in: those of canonical rows. */
export type PackEncoding = Exclude<RowEncoding, 'text'>;
export type Leaf = string | number | boolean | bigint;
export type Field = Leaf | ReadonlyArray<readonly [string, Leaf]>;

export const PACK_VERSION = 1;

/** A journal row decoded and found fit for a pack. */
export interface PackRow {
  seq: number;
  /** Epoch ms. */
  ts: number;
  /** Fields other than ts and seq, in payload order: a leaf, or a group of leaves. */
  fields: ReadonlyArray<readonly [string, Field]>;
}

/**
 * Decodes a journal row of the given encoding for packing; undefined when it must be sent as it
 * is (text rows, and maps that are not canonical).
 */
export function decodeRow(payload: Buffer, encoding: RowEncoding, seq: number, cbor: CborCodec): PackRow | undefined {
  if (encoding === 'text') return undefined;
  let body: unknown;
  try {
    body = encoding === 'json' ? JSON.parse(payload.toString('utf8')) : cbor.decode(payload);
  } catch {
    return undefined;
  }
  if (!isPlainObject(body) || body.seq !== seq || 'pack' in body) return undefined;
  const ts = encoding === 'json' ? isoMillis(body.ts) : safeInteger(body.ts);
  if (ts === undefined) return undefined;
  const fields: [string, Field][] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key === 'ts' || key === 'seq') continue;
    if (isLeaf(value, encoding)) {
      fields.push([key, value]);
      continue;
    }
    if (!isPlainObject(value)) return undefined;
    const members = Object.entries(value);
    if (members.length === 0 || !members.every(([, v]) => isLeaf(v, encoding))) return undefined;
    fields.push([key, members as [string, Leaf][]]);
  }
  return { seq, ts, fields };
}

/** Whether `row` can share a pack with rows whose field kinds are `kinds` (leaf or group per key). */
export function fitsShape(kinds: ReadonlyMap<string, 'leaf' | 'group'>, row: PackRow): boolean {
  return row.fields.every(([key, value]) => {
    const kind = kinds.get(key);
    return kind === undefined || kind === kindOf(value);
  });
}

export function addShape(kinds: Map<string, 'leaf' | 'group'>, row: PackRow): void {
  for (const [key, value] of row.fields) kinds.set(key, kindOf(value));
}

/** Encodes rows (same topic, ascending seq, compatible shapes) as one pack. */
export function encodePack(rows: readonly PackRow[], encoding: PackEncoding, cbor?: CborCodec): Buffer {
  if (rows.length === 0) throw new RangeError('encodePack: no rows');
  const n = rows.length;
  const first = rows[0]!;
  const pack: Record<string, unknown> = { pack: PACK_VERSION, n, seq: first.seq };
  const dseq = steps(rows.map((r) => r.seq));
  if (!(typeof dseq === 'number' && dseq === 1) && n > 1) pack.dseq = dseq;
  pack.ts = encoding === 'json' ? new Date(first.ts).toISOString() : first.ts;
  const dts = steps(rows.map((r) => r.ts));
  if (!(typeof dts === 'number' && dts === 0) && n > 1) pack.dts = dts;
  pack.cols = columns(rows);
  if (encoding === 'cbor') {
    if (!cbor) throw new TypeError('encodePack: the cbor encoding needs a CborCodec');
    return cbor.encode(pack);
  }
  return Buffer.from(JSON.stringify(pack));
}

type Column = (Leaf | null)[];

function columns(rows: readonly PackRow[]): Record<string, unknown> {
  const n = rows.length;
  const top = new Map<string, Column | Map<string, Column>>();
  rows.forEach((row, i) => {
    for (const [key, value] of row.fields) {
      if (typeof value !== 'object') {
        let col = top.get(key) as Column | undefined;
        if (!col) top.set(key, (col = new Array<Leaf | null>(n).fill(null)));
        col[i] = value;
        continue;
      }
      let group = top.get(key) as Map<string, Column> | undefined;
      if (!group) top.set(key, (group = new Map()));
      for (const [member, leaf] of value) {
        let col = group.get(member);
        if (!col) group.set(member, (col = new Array<Leaf | null>(n).fill(null)));
        col[i] = leaf;
      }
    }
  });
  return entriesObject(
    [...top].map(([key, col]) => [
      key,
      Array.isArray(col) ? compact(col) : entriesObject([...col].map(([member, c]) => [member, compact(c)])),
    ]),
  );
}

/** A column whose every entry is the same leaf shrinks to that leaf. */
function compact(col: Column): Column | Leaf {
  const v = col[0];
  if (v === null || v === undefined) return col;
  return col.every((x) => sameLeaf(x, v)) ? v : col;
}

/** Differences between neighbours: one number when they are all equal, else the list. */
function steps(xs: readonly number[]): number | number[] {
  const d = xs.slice(1).map((x, i) => x - xs[i]!);
  if (d.length === 0) return 0;
  return d.every((x) => x === d[0]) ? d[0]! : d;
}

function sameLeaf(a: Leaf | null, b: Leaf): boolean {
  return typeof a === typeof b && (typeof a === 'number' ? Object.is(a, b) : a === b);
}

function kindOf(value: Field): 'leaf' | 'group' {
  return typeof value === 'object' ? 'group' : 'leaf';
}

function isLeaf(value: unknown, encoding: PackEncoding): value is Leaf {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      // JSON.parse has already rounded integers past 2^53: such a row is not repacked.
      return Number.isFinite(value) && (encoding === 'cbor' || !Number.isInteger(value) || Number.isSafeInteger(value));
    case 'bigint':
      return encoding === 'cbor';
    default:
      return false;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isoMillis(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  // Only the exact form toISOString() writes, so unpacking gives back the very same text.
  return Number.isFinite(ms) && new Date(ms).toISOString() === value ? ms : undefined;
}

function safeInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}
