// From a line of text to point values. Each format is compiled once from the device config into a
// parser (line → field lookup); decodeLines then types every point's field. All pure.
// Reasons are stable texts (they become the error of published bad readings); what varies with the
// data — the offending text, a column count, the JSON parser's position — goes in `got`.
import { typeField, type FieldType, type RawField } from './field-type.js';
import { decodeEscapes } from './escapes.js';
import { SERIAL_DEFAULTS, type LineFormat, type SerialDeviceConfig } from './serial-config.js';

export type FieldLookup = (field: string) => RawField | undefined;

export type LineParse = { ok: true; lookup: FieldLookup } | { ok: false; reason: string; got?: string };

export type LineParser = (line: string) => LineParse;

export interface PointSpec {
  point: string;
  field: string;
  type: FieldType;
}

export interface FormatOptions {
  format: LineFormat;
  pattern?: string;
  separator?: string;
  columns?: number;
  /** Fields the points read; csv uses them to know how many columns a line needs. */
  fields: readonly string[];
}

/** Throws (SyntaxError) on a pattern that does not compile; check() reports that before create. */
export function compileLineParser(options: FormatOptions): LineParser {
  switch (options.format) {
    case 'regex':
      return regexParser(new RegExp(options.pattern ?? ''));
    case 'csv':
      return csvParser(separatorOf(options), options.columns, options.fields.reduce((max, f) => Math.max(max, Number(f)), 0) + 1);
    case 'kv':
      return kvParser(separatorOf(options));
    case 'json':
      return jsonParser;
  }
}

export function pointSpecs(device: Pick<SerialDeviceConfig, 'points'>): PointSpec[] {
  return device.points.map((p) => ({
    point: p.name,
    field: String(p.field ?? p.name),
    type: p.type ?? SERIAL_DEFAULTS.type,
  }));
}

function separatorOf(options: FormatOptions): string {
  return decodeEscapes(options.separator ?? SERIAL_DEFAULTS.separator);
}

function regexParser(re: RegExp): LineParser {
  return (line) => {
    const m = re.exec(line);
    if (!m) return { ok: false, reason: 'does not match pattern' };
    return {
      ok: true,
      // Group numbers work too; a group that did not take part in the match is a missing field.
      lookup: (field) => (/^\d+$/.test(field) ? m[Number(field)] : m.groups?.[field]),
    };
  };
}

function csvParser(separator: string, columns: number | undefined, needed: number): LineParser {
  return (line) => {
    const cells = line.split(separator).map(unquote);
    if (columns !== undefined && cells.length !== columns) {
      return { ok: false, reason: `expected ${columns} fields`, got: String(cells.length) };
    }
    if (cells.length < needed) return { ok: false, reason: `expected at least ${needed} fields`, got: String(cells.length) };
    return { ok: true, lookup: (field) => cells[Number(field)] };
  };
}

function unquote(cell: string): string {
  const t = cell.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

function kvParser(separator: string): LineParser {
  return (line) => {
    const pairs = new Map<string, string>();
    for (const token of line.split(separator)) {
      const eq = token.indexOf('=');
      // Tokens without '=' (a sentence tag, a unit) are tolerated; only a line without pairs is bad.
      if (eq <= 0) continue;
      pairs.set(token.slice(0, eq).trim(), token.slice(eq + 1).trim());
    }
    if (pairs.size === 0) return { ok: false, reason: 'no key=value pairs' };
    return { ok: true, lookup: (field) => pairs.get(field) };
  };
}

function jsonParser(line: string): LineParse {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (err) {
    return { ok: false, reason: 'invalid JSON', got: (err as Error).message };
  }
  return { ok: true, lookup: (field) => resolvePath(doc, parsePath(field)) };
}

/** "a.b[2].c" → ["a", "b", "2", "c"]; undefined for a malformed path. */
export function parsePath(path: string): string[] | undefined {
  const segments: string[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m || (m[1] === '' && m[2] === '')) return undefined;
    if (m[1] !== '') segments.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) segments.push(idx[1]!);
  }
  return segments;
}

function resolvePath(doc: unknown, segments: string[] | undefined): RawField | undefined {
  if (!segments) return undefined;
  let cur: unknown = doc;
  for (const seg of segments) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur as RawField;
}

export interface PointValue {
  point: string;
  value: number | boolean | string | bigint;
}

export interface PointFailure {
  point: string;
  reason: string;
  got?: string;
}

export interface Decoded {
  values: PointValue[];
  /** Points whose field was missing or invalid in every line that parsed. */
  failures: PointFailure[];
  /** Lines that did not parse at all, with the reason. */
  badLines: { line: string; reason: string; got?: string }[];
}

/**
 * Decodes one unit of input: a single line in listen mode, the whole reply in request mode. When
 * several lines carry a field, the last good one wins.
 */
export function decodeLines(parser: LineParser, specs: readonly PointSpec[], lines: readonly string[]): Decoded {
  const lookups: FieldLookup[] = [];
  const badLines: Decoded['badLines'] = [];
  for (const line of lines) {
    const parsed = parser(line);
    if (parsed.ok) lookups.push(parsed.lookup);
    else badLines.push(parsed.got === undefined ? { line, reason: parsed.reason } : { line, reason: parsed.reason, got: parsed.got });
  }
  const values: PointValue[] = [];
  const failures: PointFailure[] = [];
  if (lookups.length === 0) return { values, failures, badLines };
  for (const spec of specs) {
    let reason = `field ${JSON.stringify(spec.field)} missing`;
    let got: string | undefined;
    let value: PointValue['value'] | undefined;
    for (let i = lookups.length - 1; i >= 0 && value === undefined; i -= 1) {
      const raw = lookups[i]!(spec.field);
      if (raw === undefined) continue;
      const typed = typeField(raw, spec.type);
      if (typed.ok) value = typed.value;
      else {
        reason = `field ${JSON.stringify(spec.field)}: ${typed.reason}`;
        got = typed.got;
      }
    }
    if (value === undefined) failures.push(got === undefined ? { point: spec.point, reason } : { point: spec.point, reason, got });
    else values.push({ point: spec.point, value });
  }
  return { values, failures, badLines };
}

/** A line that is not valid UTF-8: counted as a parse error, never published with U+FFFD in it. */
export interface InvalidLine {
  invalid: string;
  /** The line with U+FFFD where the bad bytes were, for logs only. */
  shown: string;
}

// fatal: an invalid sequence throws instead of turning into U+FFFD. decode() without `stream`
// keeps no state between calls, so one decoder can serve every line.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Strips CR/LF left at either end of a line (a device ending lines with "\r\n" while the delimiter
 * is "\n", say). Returns undefined for lines to drop silently: blank ones and those matching
 * `ignore` (banners, prompts, echoed requests). A line with invalid UTF-8 comes back as an
 * InvalidLine.
 */
export function cleanLine(raw: Buffer, ignore: RegExp | undefined): string | InvalidLine | undefined {
  const lossy = stripEnds(raw.toString('utf8'));
  if (lossy.trim() === '') return undefined;
  if (ignore?.test(lossy)) return undefined;
  try {
    return stripEnds(UTF8.decode(raw));
  } catch {
    return { invalid: `invalid UTF-8 (${badBytes(raw)})`, shown: lossy };
  }
}

function stripEnds(text: string): string {
  return text.replace(/^[\r\n]+|[\r\n]+$/g, '');
}

/** Where decoding first fails, for the log: "at byte 12 (0xff)". Only runs on lines already known to be bad. */
function badBytes(raw: Buffer): string {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < raw.length; i += 1) {
    try {
      decoder.decode(raw.subarray(i, i + 1), { stream: true });
    } catch {
      return `at byte ${i} (0x${raw[i]!.toString(16).padStart(2, '0')})`;
    }
  }
  return 'a sequence cut off at the end';
}

/** A reason with what the device actually sent, for logs (never for published readings). */
export function reasonWithGot(f: { reason: string; got?: string }): string {
  return f.got === undefined ? f.reason : `${f.reason}: ${f.got}`;
}

/** A line shortened for logs. */
export function truncateLine(line: string, max = 120): string {
  return line.length > max ? `${line.slice(0, max)}… (${line.length} chars)` : line;
}
