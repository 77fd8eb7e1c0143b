// A site file that cannot be used. Carries every problem found, each with its position, so a
// plant engineer fixes the whole file in one pass instead of one error per restart.
import { FieldgateError } from '../util/errors.js';
import { MAX_LISTED_ISSUES } from './file-limits.js';

/** One problem in a site file; line and col are 1-based. */
export interface SiteIssue {
  file: string;
  line: number;
  col: number;
  message: string;
}

export class ConfigError extends FieldgateError {
  /** Sorted by position, duplicates removed. */
  readonly issues: readonly SiteIssue[];

  /**
   * Secrets the invalid file revealed (already kept out of the messages): whoever logs about this
   * file registers them with its log redactor first.
   */
  declare readonly secrets: readonly string[];

  constructor(issues: readonly SiteIssue[], options: { cause?: unknown; secrets?: readonly string[] } = {}) {
    const sorted = sortIssues(issues);
    const count = sorted.length === 1 ? '1 problem' : `${sorted.length} problems`;
    super('config_invalid', `invalid site file (${count}):\n${formatIssues(sorted, MAX_LISTED_ISSUES)}`, {
      kind: 'fatal',
      cause: options.cause,
    });
    this.issues = sorted;
    // Not enumerable: an error serialized into a log line must not carry them along.
    Object.defineProperty(this, 'secrets', { value: options.secrets ?? [], enumerable: false });
  }

  /**
   * One `file:line:col: message` per line, in file order, like a compiler; past `limit` lines
   * (default 100) a last line counts the rest: a file of 100,000 bad keys needs its first
   * errors fixed, not a screenful per key.
   */
  format(limit = MAX_LISTED_ISSUES): string {
    return formatIssues(this.issues, limit);
  }
}

function formatIssues(issues: readonly SiteIssue[], limit: number): string {
  const shown = issues.slice(0, limit).map((i) => `${i.file}:${i.line}:${i.col}: ${i.message}`);
  const rest = issues.length - shown.length;
  if (rest > 0) shown.push(`… and ${rest} more ${rest === 1 ? 'problem' : 'problems'} (${issues.length} in all)`);
  return shown.join('\n');
}

export function sortIssues(issues: readonly SiteIssue[]): SiteIssue[] {
  const seen = new Set<string>();
  const unique: SiteIssue[] = [];
  for (const issue of issues) {
    const key = `${issue.file}\u0000${issue.line}\u0000${issue.col}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(issue);
  }
  return unique.sort(
    (a, b) =>
      compareText(a.file, b.file) || a.line - b.line || a.col - b.col || compareText(a.message, b.message),
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
