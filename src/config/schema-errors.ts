// Ajv's errors rewritten for people who configure gateways, not for schema authors:
// `devices[0].interval: "5 seconds" is not a duration (use e.g. 500ms, 5s, 1m)`.
import type { ErrorObject } from 'ajv';
import { NAME_PATTERN, TAG_NAME_PATTERN } from './site-schema.js';
import { didYouMean } from './suggest.js';
import { unitRangeMessage } from './schema-units.js';
import { isSecretKey } from '../util/is-secret-key.js';

/** A problem at a JSON pointer; `key` = point at the key naming the value, `value` = at the value. */
export interface PathIssue {
  pointer: string;
  at: 'key' | 'value';
  message: string;
  /** An extra key: the rest of its object is still usable by later checks. */
  unknownKey?: boolean;
  /** A position inside a text value (0-based), shown when the text is written out one to one. */
  column?: number;
}

/** Turns '/devices/0/points/1/signal' into 'devices[0].points[1].signal'. */
export function displayPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** `prefix: message`, or just the message at the top level. */
export function at(pointer: string, message: string): string {
  const shown = displayPath(pointer);
  return shown === '' ? message : `${shown}: ${message}`;
}

const SECRET_VALUE = Symbol('secret');

/** Describes a value the way the user wrote it. */
export function showValue(value: unknown): string {
  if (value === SECRET_VALUE) return 'the secret value (not shown)';
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map (key: value)';
  return String(value);
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'a map (key: value)',
  array: 'a list',
  null: 'an empty value',
};

function expected(type: unknown): string {
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => TYPE_WORDS[String(t)] ?? String(t)).join(' or ');
}

/** `base` is the pointer of the validated object within the whole file ('' or '/devices/3'). */
export function describeSchemaErrors(errors: readonly ErrorObject[], base: string): PathIssue[] {
  // A value of the wrong type gets one message naming every acceptable type (anyOf branches
  // report one type error each), and nothing else: its enum or format cannot be judged.
  // Except when anyOf/oneOf has a branch of the right type that failed on something else
  // (e.g. a minimum): that failure is the useful message.
  const specific = new Set(
    errors.filter((e) => !['type', 'anyOf', 'oneOf'].includes(e.keyword)).map((e) => e.instancePath),
  );
  const branchy = new Set(errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath));
  const relevant = errors.filter((e) => !(e.keyword === 'type' && branchy.has(e.instancePath) && specific.has(e.instancePath)));
  const typesAt = new Map<string, unknown[]>();
  for (const e of relevant) {
    if (e.keyword !== 'type') continue;
    const types = Array.isArray(e.params.type) ? (e.params.type as unknown[]) : [e.params.type];
    typesAt.set(e.instancePath, [...(typesAt.get(e.instancePath) ?? []), ...types]);
  }
  const issues: PathIssue[] = [];
  const typeDone = new Set<string>();
  for (const err of relevant) {
    const pointer = base + err.instancePath;
    const types = typesAt.get(err.instancePath);
    if (types && err.keyword !== 'type') continue;
    // An anyOf/oneOf summary says less than the branch errors beside it.
    if ((err.keyword === 'anyOf' || err.keyword === 'oneOf') && specific.has(err.instancePath)) continue;
    if (types && typeDone.has(err.instancePath)) continue;
    if (types) typeDone.add(err.instancePath);
    const issue = describeOne(types ? { ...err, params: { type: [...new Set(types)] } } : err, pointer);
    if (issue) issues.push(issue);
  }
  return issues;
}

/** A secret's value is never quoted: the schema marks it writeOnly, or its key names a secret. */
function isSecret(err: ErrorObject, pointer: string): boolean {
  if ((err.parentSchema as { writeOnly?: unknown } | undefined)?.writeOnly === true) return true;
  return isSecretKey(pointer.slice(pointer.lastIndexOf('/') + 1));
}

function describeOne(err: ErrorObject, pointer: string): PathIssue | undefined {
  const params = err.params as Record<string, unknown>;
  const secret = isSecret(err, pointer);
  const data: unknown = secret ? SECRET_VALUE : err.data;
  switch (err.keyword) {
    case 'if':
    case 'propertyNames':
      // Summaries of errors reported on their own.
      return undefined;
    case 'anyOf':
    case 'oneOf':
      return { pointer, at: 'value', message: at(pointer, `${showValue(data)} does not fit any of the allowed forms`) };
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const props = (err.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
      return {
        pointer: `${pointer}/${escape(key)}`,
        at: 'key',
        message: at(pointer, `unknown key '${key}'${didYouMean(key, Object.keys(props))}`),
        unknownKey: true,
      };
    }
    case 'required':
      return { pointer, at: 'value', message: at(pointer, `missing required key '${String(params.missingProperty)}'`) };
    case 'type': {
      const format = (err.parentSchema as { format?: unknown } | undefined)?.format;
      if (secret) return { pointer, at: 'value', message: at(pointer, `expected ${expected(params.type)}, got ${secretKind(err.data)}`) };
      if (format === 'duration' && typeof data === 'number') {
        return { pointer, at: 'value', message: at(pointer, `${data} has no unit (use e.g. ${data}s or ${data}ms)`) };
      }
      let message = `expected ${expected(params.type)}, got ${showValue(data)}`;
      const wantsText = Array.isArray(params.type) && params.type.length === 1 && params.type[0] === 'string';
      if (wantsText && (typeof data === 'number' || typeof data === 'boolean')) {
        message += ` (put it in quotes: "${String(data)}")`;
      }
      return { pointer, at: 'value', message: at(pointer, message) };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(showValue);
      const hint = typeof data === 'string' && !secret ? didYouMean(data, (params.allowedValues as unknown[]).map(String)) : '';
      return { pointer, at: 'value', message: at(pointer, `${showValue(data)} is not one of ${allowed.join(', ')}${hint}`) };
    }
    case 'const':
      return { pointer, at: 'value', message: at(pointer, `must be ${showValue(params.allowedValue)}`) };
    case 'format':
      return { pointer, at: 'value', message: at(pointer, formatMessage(String(params.format), data)) };
    case 'pattern': {
      if (err.propertyName !== undefined) {
        const key = err.propertyName;
        return {
          pointer: `${pointer}/${escape(key)}`,
          at: 'key',
          message: at(pointer, `'${key}' is not a valid name (${patternRule(String(params.pattern))})`),
        };
      }
      return { pointer, at: 'value', message: at(pointer, `${showValue(data)} is not valid (${patternRule(String(params.pattern))})`) };
    }
    case 'minimum':
    case 'exclusiveMinimum':
      return { pointer, at: 'value', message: at(pointer, `${showValue(data)} is below the minimum ${String(params.limit)}`) };
    case 'maximum':
    case 'exclusiveMaximum':
      return { pointer, at: 'value', message: at(pointer, `${showValue(data)} is above the maximum ${String(params.limit)}`) };
    case 'minItems': {
      const n = Number(params.limit);
      return { pointer, at: 'value', message: at(pointer, `needs at least ${n} ${n === 1 ? 'entry' : 'entries'}`) };
    }
    case 'minLength':
      return {
        pointer,
        at: 'value',
        message: at(pointer, Number(params.limit) === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters`),
      };
    default: {
      const range = unitRangeMessage(err.keyword, showValue(data), err.schema);
      if (range !== undefined) return { pointer, at: 'value', message: at(pointer, range) };
      return { pointer, at: 'value', message: at(pointer, err.message ?? `fails the ${err.keyword} rule`) };
    }
  }
}

/** What kind of value a secret is, without the value: "a number (not shown: it is a secret)". */
function secretKind(value: unknown): string {
  if (value === null || value === undefined || typeof value === 'object') return showValue(value);
  const kind = typeof value === 'number' ? 'a number' : typeof value === 'boolean' ? 'true or false' : 'text';
  return `${kind} (not shown: it is a secret)`;
}

function formatMessage(format: string, data: unknown): string {
  if (format === 'duration') return `${showValue(data)} is not a duration (use e.g. 500ms, 5s, 1m)`;
  if (format === 'size') return `${showValue(data)} is not a size (use e.g. 256MiB, 10MB or a number of bytes)`;
  return `${showValue(data)} is not a valid ${format}`;
}

function patternRule(pattern: string): string {
  if (pattern === NAME_PATTERN) return 'use letters, digits, _ . and -, not starting with . or -';
  if (pattern === TAG_NAME_PATTERN) return 'use letters, digits and _, not starting with a digit';
  return `must match ${pattern}`;
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
