// CBOR (RFC 8949) through cborg: pure JavaScript (no native add-on to build on a Pi), objects
// become CBOR maps with minimal headers, floats take the smallest width that loses nothing, and
// decoding yields plain objects. Integers beyond 2^53 decode as bigint, so 64-bit counters survive.
import { decode, encode } from 'cborg';

export class CborCodec {
  encode(value: unknown): Buffer {
    const bytes = encode(value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  decode(bytes: Uint8Array): unknown {
    return decode(bytes);
  }
}

/** True when the payload starts like a CBOR map (major type 5); see inferEncoding in row-encoding.ts. */
export function looksLikeCborMap(payload: Uint8Array): boolean {
  const first = payload[0];
  // UTF-8 text (JSON or a bare value) never starts with 0xa0–0xbf: those are continuation bytes.
  return first !== undefined && first >= 0xa0 && first <= 0xbf;
}
