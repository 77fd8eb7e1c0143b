// Payload encoders. JSON payloads carry the acquisition time and the journal seq, so replayed
// data keeps its real time and consumers can drop QoS 1 duplicates and detect gaps.
import type { Scalar } from '../driver-api/index.js';

export type PayloadFormat = 'json' | 'value';

export interface PayloadInput {
  value: Scalar | null;
  ts: number;
  unit?: string;
  error?: string;
}

/** JSON text of a value; bigints keep every digit (JSON numbers have no size limit). */
export function valueJson(value: Scalar | null): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
  return JSON.stringify(value);
}

/** Returns a renderer that completes the payload once the seq is known. */
export function payloadRenderer(format: PayloadFormat, input: PayloadInput): (seq: number) => Buffer {
  if (format === 'value') {
    const text = input.value === null ? '' : typeof input.value === 'string' ? input.value : valueJson(input.value);
    const bytes = Buffer.from(text);
    return () => bytes;
  }
  const head = `{"value":${valueJson(input.value)},"ts":"${new Date(input.ts).toISOString()}","seq":`;
  let tail = '';
  if (input.unit !== undefined) tail += `,"unit":${JSON.stringify(input.unit)}`;
  if (input.error !== undefined) tail += `,"quality":"bad","error":${JSON.stringify(input.error)}`;
  tail += '}';
  return (seq) => Buffer.from(head + seq + tail);
}
