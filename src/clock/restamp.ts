// Rewrites the time inside a stored payload, before it is published: `ts` moved by `deltaMs`,
// and optionally `"clock":"unsynced"` added. Pure: bytes in, bytes out.
//
// JSON payloads are edited as text so that nothing else changes (numbers keep every digit, keys
// their order): the first `"ts":"…"` is the top-level one in every payload fieldgate renders
// (per-point: value then ts, scalar values only; batch and meta: ts first), and a string value
// cannot contain that byte sequence unescaped. CBOR payloads are decoded and encoded again (`ts`
// is epoch ms there). Text payloads (`payload: value`) carry no time: they are left as they are.
import type { RowEncoding } from '../wire/row-encoding.js';
import type { CborCodec } from '../wire/cbor-codec.js';

const JSON_TS = /"ts":"([^"\\]*)"/;
const UNSYNCED_JSON = ',"clock":"unsynced"}';

export function restampPayload(payload: Buffer, encoding: RowEncoding, deltaMs: number, unsynced: boolean, cbor: CborCodec): Buffer {
  if (encoding === 'json') {
    let text = payload.toString('utf8');
    if (deltaMs !== 0) {
      const m = JSON_TS.exec(text);
      const t = m ? Date.parse(m[1]!) : Number.NaN;
      if (m && !Number.isNaN(t)) {
        text = `${text.slice(0, m.index)}"ts":"${new Date(t + deltaMs).toISOString()}"${text.slice(m.index + m[0].length)}`;
      }
    }
    if (unsynced && text.endsWith('}')) text = text.slice(0, -1) + UNSYNCED_JSON;
    return Buffer.from(text, 'utf8');
  }
  if (encoding === 'cbor') {
    let body: unknown;
    try {
      body = cbor.decode(payload);
    } catch {
      return payload;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return payload;
    const o = body as Record<string, unknown>;
    if (deltaMs !== 0 && typeof o.ts === 'number') o.ts += deltaMs;
    if (unsynced) o.clock = 'unsynced';
    return cbor.encode(o);
  }
  return payload;
}
