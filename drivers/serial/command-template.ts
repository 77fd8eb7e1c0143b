// Rendering a command for the port: the point's `command` template with {value} replaced.
// Numbers are written plainly (never "1e-7" or "1e+21"), booleans as 1/0.
//
// A value must never change the shape of the command it is put into:
// - whatever the template, a value with a control or format character (CR, LF, NUL, U+0085,
//   U+2028, a bidi override, …) or the device's line delimiter is refused: it could end the
//   command early and start another one;
// - inside the JSON part of a template (an object or array once {value} is filled in) the value
//   becomes JSON text: inside a string literal the value is escaped, so `"` cannot close the string and add
//   keys; in a value position a string point's value becomes a quoted JSON string;
// - the inserted text is at most `max_length` bytes, so a command cannot hold the line for long.
import {
  CommandError, quoteValue, readCommandNumber, toExactInteger, unsafeCommandChar, type Scalar,
} from '../../src/driver-api/index.js';
import { typeField, type FieldType } from './field-type.js';

export const VALUE_PLACEHOLDER = '{value}';

/** Where a {value} sits: a plain line, inside a JSON string literal, or as a JSON value. */
export type ValueContext = 'line' | 'json_string' | 'json_value';

export interface CommandTemplate {
  /** Literal text around the placeholders: parts.length === contexts.length + 1. */
  parts: string[];
  contexts: ValueContext[];
}

export interface RenderLimits {
  /** Most bytes the inserted value may take (after escaping). */
  maxLength: number;
  /** The device's line delimiter: a value containing it would split the command. */
  delimiter?: string;
}

/**
 * `template` has its escapes decoded already. The JSON part of a template is the text from its
 * first `{`/`[` to its last `}`/`]` when that parses as JSON with the placeholders filled in, so a
 * prefix ("CMD ") or a terminator (";", "\r\n") around the JSON does not hide it.
 */
export function compileCommandTemplate(template: string): CommandTemplate {
  const parts = template.split(VALUE_PLACEHOLDER);
  const region = jsonRegion(template);
  const contexts: ValueContext[] = [];
  let inString = false;
  for (let i = 0; i < template.length; i += 1) {
    if (template.startsWith(VALUE_PLACEHOLDER, i)) {
      const inJson = region !== undefined && i > region.start && i < region.end;
      contexts.push(!inJson ? 'line' : inString ? 'json_string' : 'json_value');
      i += VALUE_PLACEHOLDER.length - 1;
    } else if (region === undefined || i < region.start || i > region.end) {
      continue;
    } else if (inString && template[i] === '\\') {
      i += 1;
    } else if (template[i] === '"') {
      inString = !inString;
    }
  }
  return { parts, contexts };
}

// Same length as the placeholder, so offsets in the filled-in text are offsets in the template;
// a valid JSON number, and harmless inside a string literal.
const FILLER = '1'.padEnd(VALUE_PLACEHOLDER.length, '0');

function jsonRegion(template: string): { start: number; end: number } | undefined {
  const filled = template.split(VALUE_PLACEHOLDER).join(FILLER);
  const start = filled.search(/[{[]/);
  const end = Math.max(filled.lastIndexOf('}'), filled.lastIndexOf(']'));
  if (start < 0 || end <= start) return undefined;
  try {
    return typeof JSON.parse(filled.slice(start, end + 1)) === 'object' ? { start, end } : undefined;
  } catch {
    return undefined;
  }
}

/** Throws CommandError for a value the point cannot take; nothing is written then. */
export function renderCommand(template: CommandTemplate, value: Scalar, type: FieldType, limits: RenderLimits): string {
  const text = valueText(value, type);
  const unsafe = unsafeCommandChar(text);
  if (unsafe) throw new CommandError('invalid_value', `value contains the control or format character ${unsafe}`);
  if (limits.delimiter && text.includes(limits.delimiter)) {
    throw new CommandError('invalid_value', 'value contains the line delimiter');
  }
  let out = template.parts[0]!;
  template.contexts.forEach((context, i) => {
    const inserted = insert(text, type, context);
    const bytes = Buffer.byteLength(inserted, 'utf8');
    if (bytes > limits.maxLength) {
      throw new CommandError('too_long', `value is ${bytes} bytes; this point takes at most ${limits.maxLength} (max_length)`);
    }
    out += inserted + template.parts[i + 1]!;
  });
  return out;
}

function insert(text: string, type: FieldType, context: ValueContext): string {
  switch (context) {
    case 'line':
      return text;
    case 'json_string':
      return JSON.stringify(text).slice(1, -1);
    case 'json_value':
      // Numbers and 1/0 are JSON already; text must become a JSON string, not raw JSON.
      return type === 'string' ? JSON.stringify(text) : text;
  }
}

function valueText(value: Scalar, type: FieldType): string {
  switch (type) {
    case 'bool': {
      const typed = typeof value === 'bigint' ? typeField(value.toString(), 'bool') : typeField(value, 'bool');
      if (!typed.ok) throw new CommandError('invalid_value', `expected a boolean, got ${quoteValue(value)}`);
      return typed.value ? '1' : '0';
    }
    case 'int':
      if (typeof value === 'boolean') throw new CommandError('invalid_value', 'expected an integer, got a boolean');
      return toExactInteger(value).toString();
    case 'float': {
      if (typeof value === 'boolean') throw new CommandError('invalid_value', 'expected a number, got a boolean');
      const n = readCommandNumber(value);
      return typeof n === 'bigint' ? n.toString() : formatPlain(n);
    }
    case 'string':
      if (typeof value === 'boolean') return value ? '1' : '0';
      if (typeof value === 'number') return formatPlain(value);
      return value.toString();
  }
}

/** Decimal notation without an exponent; -0 is "0". */
export function formatPlain(n: number): string {
  if (!Number.isFinite(n)) throw new CommandError('invalid_value', `not a finite number: ${n}`);
  if (n === 0) return '0';
  const text = String(n);
  const e = text.indexOf('e');
  if (e < 0) return text;
  if (Number.isInteger(n)) return BigInt(n).toString();
  // Small magnitudes: as many decimals as the shortest representation needs.
  const mantissa = text.slice(0, e);
  const decimals = (mantissa.split('.')[1]?.length ?? 0) - Number(text.slice(e + 1));
  return n.toFixed(Math.min(100, decimals));
}
