// Payload encoders. JSON payloads carry the acquisition time and the journal seq, so replayed
// data keeps its real time and consumers can drop QoS 1 duplicates and detect gaps.
// CBOR payloads carry the same fields; `ts` is epoch milliseconds there (an ISO string would
// cost 25 bytes), and the uplink marks them with the MQTT 5 content type application/cbor.
import type { Scalar } from '../driver-api/index.js';
import type { CborCodec } from '../wire/cbor-codec.js';
import type { Qos } from '../journal/journal.js';

export type PayloadFormat = 'json' | 'value' | 'batch';
export type PayloadEncoding = 'json' | 'cbor';

export interface PayloadInput {
  value: Scalar | null;
  ts: number;
  unit?: string;
  error?: string;
  /** `ts` as ISO text, when the caller has it already (all readings of a poll share one time). */
  tsText?: string;
}

/** JSON text of a value; bigints keep every digit (JSON numbers have no size limit). */
export function valueJson(value: Scalar | null): string {
  switch (typeof value) {
    // What JSON.stringify gives a finite number is its ToString, without the generic serializer
    // around it (profiled: JSON.stringify was the largest cost of mapping a batch poll).
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'string':
      return JSON.stringify(value);
    default:
      return 'null';
  }
}

/** The value as CBOR should carry it: non-finite numbers become null, as in JSON. */
export function cborValue(value: Scalar | null): Scalar | null {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

/**
 * Returns a renderer that completes a per-point payload once the seq is known. `cbor` is needed
 * only for the cbor encoding (the device mapper owns one codec for all its points).
 */
export function payloadRenderer(
  format: 'json' | 'value',
  input: PayloadInput,
  encoding: PayloadEncoding = 'json',
  cbor?: CborCodec,
): (seq: number) => Buffer {
  if (format === 'value') {
    const text = input.value === null ? '' : typeof input.value === 'string' ? input.value : valueJson(input.value);
    const bytes = Buffer.from(text);
    return () => bytes;
  }
  if (encoding === 'cbor') {
    if (!cbor) throw new TypeError('payloadRenderer: the cbor encoding needs a CborCodec');
    return (seq) => {
      const body: Record<string, unknown> = { value: cborValue(input.value), ts: input.ts, seq };
      if (input.unit !== undefined) body.unit = input.unit;
      if (input.error !== undefined) {
        body.quality = 'bad';
        body.error = input.error;
      }
      return cbor.encode(body);
    };
  }
  const head = jsonPointHead(input.value, input.tsText ?? new Date(input.ts).toISOString());
  const tail = jsonPointTail(input.unit, input.error);
  return (seq) => Buffer.from(head + seq + tail);
}

/** A JSON point payload up to its seq: `{"value":…,"ts":"…","seq":`. */
export function jsonPointHead(value: Scalar | null, tsText: string): string {
  return `{"value":${valueJson(value)},"ts":"${tsText}","seq":`;
}

/** What follows the seq in a JSON point payload: the unit and the fault, if any, and the brace. */
export function jsonPointTail(unit: string | undefined, error: string | undefined): string {
  let tail = '';
  if (unit !== undefined) tail += `,"unit":${JSON.stringify(unit)}`;
  if (error !== undefined) tail += `,"quality":"bad","error":${JSON.stringify(error)}`;
  return tail + '}';
}

/**
 * A JSON point reading waiting for its seq, as the journal takes it (a NewEntry). One object per
 * reading where an entry, a renderer closure and its context were three: at 1,000 readings/s
 * that garbage is what pushes in-flight messages into V8's old generation.
 */
export class JsonPointEntry {
  /**
   * One entry that lives as long as the class. Entries live only from a poll to its commit, and
   * under the package's launcher (--optimize-for-size) every full collection is a memory-reducing
   * one, which drops hidden classes that no live object has: between polls that was this one, and
   * V8 threw away the optimized code built for it (`render`, the journal's `plan`, the mapper's
   * `map`) at every collection and compiled it again (docs/performance.md, "CPU per reading").
   * Made like every other entry (ts a time in ms, strings, a QoS number), so it shares their class.
   */
  static readonly #keepsClass = new JsonPointEntry(Date.now(), 'x', 1, false, 'x', 'x');

  readonly encoding = 'json' as const;

  constructor(
    readonly ts: number,
    readonly topic: string,
    readonly qos: Qos,
    readonly retain: boolean,
    private readonly head: string,
    private readonly tail: string,
  ) {}

  render(seq: number): Buffer {
    return Buffer.from(this.head + seq + this.tail);
  }
}
