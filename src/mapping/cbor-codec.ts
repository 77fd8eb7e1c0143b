// CBOR (RFC 8949) through cbor-x, configured for plain data: objects become CBOR maps with
// minimal headers (cbor-x's default writes a 3-byte map header), no record extension, and
// decoding yields plain objects. 64-bit integers decode as bigint, so 64-bit counters survive.
import { Decoder, Encoder } from 'cbor-x';

export class CborCodec {
  private readonly encoder = new Encoder({ useRecords: false, variableMapSize: true, mapsAsObjects: true });
  private readonly decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

  encode(value: unknown): Buffer {
    // cbor-x hands out slices of a shared buffer; copy so a stored payload never pins a big one.
    return Buffer.from(this.encoder.encode(value));
  }

  decode(bytes: Uint8Array): unknown {
    return this.decoder.decode(bytes);
  }
}

/** True when the payload starts like a CBOR map (major type 5): how the forwarder tells CBOR rows apart. */
export function looksLikeCborMap(payload: Uint8Array): boolean {
  const first = payload[0];
  // UTF-8 text (JSON or a bare value) never starts with 0xa0–0xbf: those are continuation bytes.
  return first !== undefined && first >= 0xa0 && first <= 0xbf;
}
