// Plans the publishes for one chunk of the backlog: rows of the same topic (same QoS, not
// retained, canonical JSON or CBOR payloads) are packed into one message; every other row goes
// out as it is. Pure: rows in, publishes out. A row's encoding is the one the journal stored
// with it; only JSON and CBOR rows are decoded, to check they are canonical and to pack them.
//
// Order: rows of one topic keep their seq order, across packs and singles alike. A pack takes
// the place of its oldest row, so the order *across* topics may change within one chunk; the
// wire format and the consumer's side are in docs/consumers.md.
import type { JournalEntry, Qos } from '../journal/journal.js';
import type { CborCodec } from '../wire/cbor-codec.js';
import { contentTypeOf } from '../wire/row-encoding.js';
import { addShape, decodeRow, encodePack, fitsShape, type PackEncoding, type PackRow } from '../wire/pack-codec.js';

export interface PlannedPublish {
  topic: string;
  qos: Qos;
  retain: boolean;
  payload: Buffer;
  contentType?: string;
  /** Journal rows this publish carries; all are removed once it is acknowledged. */
  seqs: number[];
}

export interface PackLimits {
  /** Most rows in one pack (buffer.max_pack). */
  maxRows: number;
  /** Largest pack payload for this topic, bytes: buffer.max_pack_bytes and the broker's limit. */
  maxBytes(topic: string): number;
}

interface Group {
  topic: string;
  qos: Qos;
  encoding: PackEncoding;
  kinds: Map<string, 'leaf' | 'group'>;
  entries: JournalEntry[];
  rows: PackRow[];
}

export function singlePublish(entry: JournalEntry): PlannedPublish {
  const publish: PlannedPublish = { topic: entry.topic, qos: entry.qos, retain: entry.retain, payload: entry.payload, seqs: [entry.seq] };
  const contentType = contentTypeOf(entry.encoding);
  if (contentType !== undefined) publish.contentType = contentType;
  return publish;
}

/** Publishes for `entries` (ascending seq), packing what can be packed within `limits`. */
export function planPublishes(entries: readonly JournalEntry[], limits: PackLimits, cbor: CborCodec): PlannedPublish[] {
  const slots: (PlannedPublish | Group)[] = [];
  const open = new Map<string, Group>();
  for (const entry of entries) {
    const group = open.get(entry.topic);
    const encoding = entry.encoding;
    const row = entry.retain || encoding === 'text' ? undefined : decodeRow(entry.payload, encoding, entry.seq, cbor);
    if (
      group !== undefined &&
      row !== undefined &&
      group.qos === entry.qos &&
      group.encoding === encoding &&
      group.rows.length < limits.maxRows &&
      fitsShape(group.kinds, row)
    ) {
      group.entries.push(entry);
      group.rows.push(row);
      addShape(group.kinds, row);
      continue;
    }
    // The open group (if any) is complete; later rows of its topic go into later slots.
    open.delete(entry.topic);
    if (row === undefined || encoding === 'text') {
      slots.push(singlePublish(entry));
      continue;
    }
    const fresh: Group = { topic: entry.topic, qos: entry.qos, encoding, kinds: new Map(), entries: [entry], rows: [row] };
    addShape(fresh.kinds, row);
    slots.push(fresh);
    open.set(entry.topic, fresh);
  }
  return slots.flatMap((slot) => ('seqs' in slot ? [slot] : packGroup(slot, limits.maxBytes(slot.topic), cbor)));
}

/** A group's rows as packs no larger than `budget` bytes; rows that do not gain from packing go alone. */
function packGroup(group: Group, budget: number, cbor: CborCodec): PlannedPublish[] {
  const out: PlannedPublish[] = [];
  let start = 0;
  while (start < group.rows.length) {
    let count = group.rows.length - start;
    let payload: Buffer | undefined;
    while (count > 1) {
      payload = encodePack(group.rows.slice(start, start + count), group.encoding, cbor);
      if (payload.length <= budget) break;
      // Pack size grows about linearly with rows: aim just under the budget, then step down.
      count = Math.max(1, Math.min(count - 1, Math.floor((count * budget) / payload.length)));
      payload = undefined;
    }
    const entries = group.entries.slice(start, start + count);
    start += count;
    const raw = entries.reduce((sum, e) => sum + e.payload.length, 0);
    if (payload === undefined || payload.length >= raw) {
      for (const e of entries) out.push(singlePublish(e));
      continue;
    }
    const publish: PlannedPublish = { topic: group.topic, qos: group.qos, retain: false, payload, seqs: entries.map((e) => e.seq) };
    const contentType = contentTypeOf(group.encoding);
    if (contentType !== undefined) publish.contentType = contentType;
    out.push(publish);
  }
  return out;
}
