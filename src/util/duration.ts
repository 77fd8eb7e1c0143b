// Durations are strings in the site file ("500ms", "5s", "1m30s"); sizes likewise ("256MiB").
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$';

/** Parses "500ms", "5s", "1m30s", "2h" into milliseconds; throws RangeError on anything else. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!DURATION_RE.test(trimmed)) {
    throw new RangeError(`invalid duration "${text}" (expected e.g. 500ms, 5s, 1m30s, 2h)`);
  }
  let total = 0;
  for (const m of trimmed.matchAll(DURATION_PART)) total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
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

/** Parses "256MiB", "10MB", "4096" into bytes; throws RangeError on anything else. */
export function parseSize(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/.exec(text.trim());
  if (!m) throw new RangeError(`invalid size "${text}" (expected e.g. 256MiB, 10MB, 4096)`);
  return Math.round(Number(m[1]) * SIZE_UNITS[m[2] ?? '']!);
}
