// Durations are strings in the site file ("500ms", "5s", "1m30s"); sizes likewise ("256MiB").
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$';

/** True for text written like a duration, however long ("999999999d" included). */
export function isDurationText(text: string): boolean {
  return DURATION_RE.test(text.trim());
}

/** Parses "500ms", "5s", "1m30s", "2h" into milliseconds; throws RangeError on anything else. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!DURATION_RE.test(trimmed)) {
    throw new RangeError(`invalid duration "${text}" (expected e.g. 500ms, 5s, 1m30s, 2h)`);
  }
  let total = 0;
  for (const m of trimmed.matchAll(DURATION_PART)) total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  // 400 digits read as Infinity; no duration anyone means is beyond exact integer milliseconds.
  if (!(total <= Number.MAX_SAFE_INTEGER)) throw new RangeError(`duration "${text}" is too long`);
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3,
};
export const SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)?\\s*(B|KB|MB|GB|KiB|MiB|GiB)?$';

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/;

/** True for text written like a size, however large. */
export function isSizeText(text: string): boolean {
  return SIZE_RE.test(text.trim());
}

/** Parses "256MiB", "10MB", "4096" into bytes; throws RangeError on anything else. */
export function parseSize(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new RangeError(`invalid size ${text}`);
    return text;
  }
  const m = SIZE_RE.exec(text.trim());
  if (!m) throw new RangeError(`invalid size "${text}" (expected e.g. 256MiB, 10MB, 4096)`);
  const bytes = Number(m[1]) * SIZE_UNITS[m[2] ?? '']!;
  if (!(bytes <= Number.MAX_SAFE_INTEGER)) throw new RangeError(`size "${text}" is too large`);
  return Math.round(bytes);
}

/** "256MiB" for 268435456: the largest binary unit that divides the size, else bytes. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes > 0 && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes} bytes`;
}
