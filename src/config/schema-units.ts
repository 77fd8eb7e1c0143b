// Durations and sizes in the site schema: every such key has a range, checked at validation, so a
// value no timer or file can honour ("30d" for a connect timeout, "0" bytes) is refused with its
// line:col instead of turning into a busy loop or a refusal at start-up. The range travels in the
// schema itself (minDuration/maxDuration, minSize/maxSize) so core and driver keys share one check
// and one message, and the editor schema can spell it out in the description.
import type { Ajv } from 'ajv';
import { isDurationText, isSizeText, parseDuration, parseSize } from '../util/duration.js';

export type JsonSchema = Record<string, unknown>;

export interface DurationRange {
  /** Shortest accepted value, e.g. '1ms' (= "longer than 0"). */
  min: string;
  /** Longest accepted value, e.g. '10m'. */
  max: string;
}

export interface SizeRange {
  /** Smallest accepted size, e.g. '64KiB' or 1. */
  min: string | number;
  /** Largest accepted size, e.g. '1024GiB'. */
  max: string | number;
}

/** Keywords this module adds to Ajv; the editor schema leaves them out (editors do not know them). */
export const UNIT_KEYWORDS: readonly string[] = ['minDuration', 'maxDuration', 'minSize', 'maxSize'];

/** A duration key: text such as "5s", within `range`. */
export function durationSchema(description: string, range: DurationRange, def?: string): JsonSchema {
  return {
    type: 'string',
    format: 'duration',
    minDuration: range.min,
    maxDuration: range.max,
    description: `${description} ${range.min} to ${range.max}.`,
    ...(def === undefined ? {} : { default: def }),
  };
}

/** A size key: text such as "256MiB" or a whole number of bytes, within `range`. */
export function sizeSchema(description: string, range: SizeRange, def?: string | number): JsonSchema {
  return {
    type: ['string', 'integer'],
    format: 'size',
    minSize: range.min,
    maxSize: range.max,
    description: `${description} ${String(range.min)} to ${String(range.max)}.`,
    ...(def === undefined ? {} : { default: def }),
  };
}

/** Registers the duration/size formats and range keywords on a validator. */
export function addUnitKeywords(ajv: Ajv): void {
  // The formats judge the spelling; the range keywords the amount. Well-spelt text too large to
  // count exactly ("99999999999999999999d") is past every maximum, not a spelling mistake.
  ajv.addFormat('duration', { type: 'string', validate: isDurationText });
  ajv.addFormat('size', { type: 'string', validate: isSizeText });
  const durationKeyword = (keyword: string, ok: (ms: number, limit: number) => boolean) =>
    ajv.addKeyword({
      keyword,
      type: 'string',
      schemaType: 'string',
      validate: (limit: string, data: string) => {
        if (!isDurationText(data)) return true;
        return ok(tryParse(() => parseDuration(data)) ?? Number.POSITIVE_INFINITY, parseDuration(limit));
      },
    });
  durationKeyword('minDuration', (ms, limit) => ms >= limit);
  durationKeyword('maxDuration', (ms, limit) => ms <= limit);
  const sizeKeyword = (keyword: string, ok: (bytes: number, limit: number) => boolean) =>
    ajv.addKeyword({
      keyword,
      type: ['string', 'number'],
      schemaType: ['string', 'number'],
      validate: (limit: string | number, data: string | number) => {
        // A number that is not finite is no size at all: refuse it here, the format sees only text.
        if (typeof data === 'number' && !Number.isFinite(data)) return false;
        if (typeof data === 'string' && !isSizeText(data)) return true;
        return ok(tryParse(() => parseSize(data)) ?? Number.POSITIVE_INFINITY, parseSize(limit));
      },
    });
  sizeKeyword('minSize', (bytes, limit) => bytes >= limit);
  sizeKeyword('maxSize', (bytes, limit) => bytes <= limit);
}

/** The message for a range keyword's failure, or undefined for other keywords. */
export function unitRangeMessage(keyword: string, shown: string, limit: unknown): string | undefined {
  switch (keyword) {
    case 'minDuration':
      return parseDuration(String(limit)) <= 1 ? 'must be longer than 0' : `${shown} is shorter than the minimum ${String(limit)}`;
    case 'maxDuration':
      return `${shown} is longer than the maximum ${String(limit)}`;
    case 'minSize':
      return `${shown} is below the minimum ${String(limit)}`;
    case 'maxSize':
      return `${shown} is above the maximum ${String(limit)}`;
    default:
      return undefined;
  }
}

function tryParse<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
