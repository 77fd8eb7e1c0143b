// How one journal row's payload is encoded. The mapper knows it when it renders the row, the
// journal stores it beside the payload, and the forwarder packs and labels rows by it: nobody
// after the mapper has to guess an encoding from the bytes.
//
// - 'json': a JSON object (per-point, batch and meta rows with payload_encoding json);
// - 'cbor': a CBOR map (the same rows with payload_encoding cbor);
// - 'text': anything else, e.g. `payload: value` rows (a bare value as text); never packed.
import { looksLikeCborMap } from './cbor-codec.js';

export type RowEncoding = 'json' | 'cbor' | 'text';

/** MQTT 5 content type of CBOR payloads; JSON and text go without one (see docs/consumers.md). */
export const CBOR_CONTENT_TYPE = 'application/cbor';

/** The MQTT 5 Content Type a row of this encoding is published with, if any. */
export function contentTypeOf(encoding: RowEncoding): string | undefined {
  return encoding === 'cbor' ? CBOR_CONTENT_TYPE : undefined;
}

/**
 * The encoding read off the bytes, for the two places that have nothing else to go by: rows
 * journaled by a fieldgate that did not yet store the encoding, and consumers of MQTT 3.1.1
 * messages (no content type). A JSON object starts with `{`; a CBOR map with 0xa0–0xbf, which
 * UTF-8 text never starts with.
 */
export function inferEncoding(payload: Uint8Array): RowEncoding {
  if (payload[0] === 0x7b) return 'json';
  return looksLikeCborMap(payload) ? 'cbor' : 'text';
}
