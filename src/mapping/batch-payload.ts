// Batch payloads: one message per device poll, carrying every point that was due with one
// acquisition time and one seq. Units and other static facts go once into the retained
// `<device topic>/meta` message instead of into every reading.
//
//   {"ts":"2026-11-26T06:40:00.123Z","seq":1234,"values":{"voltage_l1":231.4},"errors":{"current_l1":"timeout"}}
//
// `values` holds the good readings, `errors` the points that could not be read (never a made-up
// value); either is left out when it would be empty. CBOR carries the same map with `ts` in
// epoch milliseconds. docs/consumers.md is the reference for consumers.
import type { Scalar } from '../driver-api/index.js';
import type { CborCodec } from '../wire/cbor-codec.js';
import { entriesObject } from '../wire/entries-object.js';
import { cborValue, valueJson, type PayloadEncoding } from './payload.js';

export interface BatchContent {
  /** Acquisition time, epoch ms. */
  ts: number;
  values: ReadonlyArray<readonly [point: string, value: Scalar | null]>;
  errors: ReadonlyArray<readonly [point: string, error: string]>;
}

export interface MetaPoint {
  name: string;
  unit?: string;
  /** Where commands for this point go (writable points only). */
  commandTopic?: string;
}

export interface MetaContent {
  ts: number;
  device: string;
  /** The profile (register map) the device was built from: consumers know what produced the data. */
  profile?: { name: string; version?: string };
  points: readonly MetaPoint[];
}

export function batchRenderer(encoding: PayloadEncoding, content: BatchContent, cbor?: CborCodec): (seq: number) => Buffer {
  if (encoding === 'cbor') {
    const codec = requireCodec(cbor);
    return (seq) => {
      const body: Record<string, unknown> = { ts: content.ts, seq };
      if (content.values.length > 0) body.values = entriesObject(content.values.map(([p, v]) => [p, cborValue(v)]));
      if (content.errors.length > 0) body.errors = entriesObject(content.errors);
      return codec.encode(body);
    };
  }
  const members = content.values.map(([p, v]) => `${JSON.stringify(p)}:${valueJson(v)}`).join(',');
  return batchJsonRenderer(new Date(content.ts).toISOString(), members, content.errors);
}

/**
 * The JSON batch payload from its `values` members already rendered (`"name":value,…`): the
 * mapper renders them as it goes, with each point's quoted name made once, instead of building a
 * list of pairs per poll to render afterwards. `tsText` is the acquisition time as ISO text.
 */
export function batchJsonRenderer(tsText: string, valueMembers: string, errors: BatchContent['errors']): (seq: number) => Buffer {
  const head = `{"ts":"${tsText}","seq":`;
  let tail = '';
  if (valueMembers.length > 0) tail += `,"values":{${valueMembers}}`;
  if (errors.length > 0) {
    tail += `,"errors":{${errors.map(([p, e]) => `${JSON.stringify(p)}:${JSON.stringify(e)}`).join(',')}}`;
  }
  tail += '}';
  return (seq) => Buffer.from(head + seq + tail);
}

/** The retained `/meta` message of a batch device: its point list, units and command topics. */
export function metaRenderer(encoding: PayloadEncoding, content: MetaContent, cbor?: CborCodec): (seq: number) => Buffer {
  const points = entriesObject(
    content.points.map((p) => {
      const info: Record<string, unknown> = {};
      if (p.unit !== undefined) info.unit = p.unit;
      if (p.commandTopic !== undefined) info.command_topic = p.commandTopic;
      return [p.name, info];
    }),
  );
  const profile = content.profile === undefined ? {} : { profile: content.profile };
  if (encoding === 'cbor') {
    const codec = requireCodec(cbor);
    return (seq) => codec.encode({ ts: content.ts, seq, device: content.device, ...profile, points });
  }
  const ts = new Date(content.ts).toISOString();
  return (seq) => Buffer.from(JSON.stringify({ ts, seq, device: content.device, ...profile, points }));
}

function requireCodec(cbor: CborCodec | undefined): CborCodec {
  if (!cbor) throw new TypeError('the cbor encoding needs a CborCodec');
  return cbor;
}
