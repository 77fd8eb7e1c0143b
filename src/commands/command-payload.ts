// A command payload → the value it asks for. Runs on untrusted input from the broker, so its size is
// checked before anything else, and numbers are read from their text (JSON.parse would round
// 9007199254740993 to …992 before anyone could check it).
import type { Scalar } from '../driver-api/index.js';
import { CommandError } from '../util/errors.js';
import { readCommandNumber } from '../util/command-number.js';

/** Largest command payload accepted, in bytes. Far above any register, field or characteristic value. */
export const MAX_COMMAND_BYTES = 4096;

const NUMBER_LITERAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Parses a command payload: a JSON number/boolean/string, `{"value": …}`, or bare text. Numbers
 * follow the shared rule (src/util/command-number.ts): exact integers at any size, refused when
 * not finite or when a fraction would be lost.
 */
export function parseCommandPayload(payload: Buffer, maxBytes = MAX_COMMAND_BYTES): Scalar {
  if (payload.length > maxBytes) {
    throw new CommandError('too_large', `command payload is ${payload.length} bytes; the limit is ${maxBytes}`);
  }
  const text = payload.toString('utf8').trim();
  if (text.length === 0) throw new CommandError('bad_payload', 'empty command payload');
  if (NUMBER_LITERAL.test(text)) return numberLiteral(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && 'value' in parsed) {
    parsed = (parsed as { value: unknown }).value;
    if (typeof parsed === 'number') return numberLiteral(memberLiteral(text, 'value') ?? String(parsed));
  }
  if (typeof parsed === 'boolean' || typeof parsed === 'string') return parsed;
  throw new CommandError('bad_payload', 'command payload must be a number, a boolean, a string or {"value": …}');
}

function numberLiteral(text: string): number | bigint {
  try {
    return readCommandNumber(text);
  } catch (err) {
    throw new CommandError('bad_payload', `command value ${(err as Error).message}`, { cause: err });
  }
}

// Sticky regular expressions carry lastIndex, so each call makes its own (no shared mutable state).
function tokens(): { ws: RegExp; string: RegExp } {
  return { ws: /[ \t\r\n]*/y, string: /"(?:[^"\\]|\\.)*"/y };
}

/**
 * The source text of a top-level member of a JSON object (the last one, as JSON.parse keeps the
 * last of duplicate keys). `text` must already have been accepted by JSON.parse.
 */
export function memberLiteral(text: string, key: string): string | undefined {
  const { ws, string: str } = tokens();
  let i = skip(text, text.indexOf('{') + 1, ws);
  let found: string | undefined;
  while (i < text.length && text[i] !== '}') {
    const keyEnd = skip(text, i, str);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skip(text, skip(text, keyEnd, ws) + 1, ws); // past ':'
    const start = i;
    i = skipValue(text, i, str);
    if (name === key) found = text.slice(start, i);
    i = skip(text, i, ws);
    if (text[i] === ',') i = skip(text, i + 1, ws);
  }
  return found;
}

function skip(text: string, at: number, re: RegExp): number {
  re.lastIndex = at;
  return re.test(text) ? re.lastIndex : at;
}

/** End of the JSON value starting at `at`: a string, a nested object/array, or a bare literal. */
function skipValue(text: string, at: number, str: RegExp): number {
  if (text[at] === '"') return skip(text, at, str);
  if (text[at] !== '{' && text[at] !== '[') {
    let i = at;
    while (i < text.length && !/[,}\] \t\r\n]/.test(text[i]!)) i += 1;
    return i;
  }
  let depth = 0;
  let i = at;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      i = skip(text, i, str);
      continue;
    }
    if (ch === '{' || ch === '[') depth += 1;
    if (ch === '}' || ch === ']') depth -= 1;
    i += 1;
    if (depth === 0) break;
  }
  return i;
}
