// Turning the text (or JSON value) of one field into the typed raw value of a point. Pure and
// strict: anything that is not clearly a value of the point's type is rejected, never guessed.
// A rejection's `reason` is a stable text (it becomes the error of a published bad reading, and a
// garbled value differs at every poll); the offending text goes separately in `got`, for logs.
export type FieldType = 'float' | 'int' | 'bool' | 'string';

export type TypedField = { ok: true; value: number | boolean | string | bigint } | { ok: false; reason: string; got?: string };

const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
// "21.0" is accepted as an integer: devices often print integers with a fixed decimal.
const INT_RE = /^([+-]?\d+)(?:\.0*)?$/;
const TRUE_WORDS = new Set(['1', 'true', 'on', 'yes']);
const FALSE_WORDS = new Set(['0', 'false', 'off', 'no']);

/** Raw field content as a format yields it: text for regex/csv/kv, any JSON value for json. */
export type RawField = string | number | boolean | null | object;

export function typeField(raw: RawField, type: FieldType): TypedField {
  if (raw === null || typeof raw === 'object') {
    return { ok: false, reason: `not a ${type}: ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : 'an object'}` };
  }
  switch (type) {
    case 'float':
      return toFloat(raw);
    case 'int':
      return toInt(raw);
    case 'bool':
      return toBool(raw);
    case 'string':
      return { ok: true, value: String(raw) };
  }
}

function toFloat(raw: string | number | boolean): TypedField {
  if (typeof raw === 'number') return Number.isFinite(raw) ? { ok: true, value: raw } : { ok: false, reason: 'not finite' };
  if (typeof raw === 'boolean') return { ok: false, reason: 'not a number (boolean)' };
  const text = raw.trim();
  if (!FLOAT_RE.test(text)) return { ok: false, reason: 'not a number', got: quote(text) };
  const value = Number(text);
  return Number.isFinite(value) ? { ok: true, value } : { ok: false, reason: 'out of range', got: quote(text) };
}

function toInt(raw: string | number | boolean): TypedField {
  if (typeof raw === 'number') {
    return Number.isInteger(raw) ? { ok: true, value: raw } : { ok: false, reason: 'not an integer', got: String(raw) };
  }
  if (typeof raw === 'boolean') return { ok: false, reason: 'not an integer (boolean)' };
  const m = INT_RE.exec(raw.trim());
  if (!m) return { ok: false, reason: 'not an integer', got: quote(raw.trim()) };
  const big = BigInt(m[1]!);
  // Beyond 2^53 a number would silently lose digits; the driver API carries those as bigint.
  const safe = big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER);
  return { ok: true, value: safe ? Number(big) : big };
}

function toBool(raw: string | number | boolean): TypedField {
  if (typeof raw === 'boolean') return { ok: true, value: raw };
  const word = String(raw).trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return { ok: true, value: true };
  if (FALSE_WORDS.has(word)) return { ok: true, value: false };
  return { ok: false, reason: 'not a boolean', got: quote(word) };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
