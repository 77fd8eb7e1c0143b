// A site file that cannot be used. Carries every problem found, each with its position, so a
// plant engineer fixes the whole file in one pass instead of one error per restart.
import { FieldgateError } from '../util/errors.js';

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
    super('config_invalid', `invalid site file (${count}):\n${formatIssues(sorted)}`, {
      kind: 'fatal',
      cause: options.cause,
    });
    this.issues = sorted;
    // Not enumerable: an error serialized into a log line must not carry them along.
    Object.defineProperty(this, 'secrets', { value: options.secrets ?? [], enumerable: false });
  }

  /** One `file:line:col: message` per line, in file order, like a compiler. */
  format(): string {
    return formatIssues(this.issues);
  }
}

function formatIssues(issues: readonly SiteIssue[]): string {
  return issues.map((i) => `${i.file}:${i.line}:${i.col}: ${i.message}`).join('\n');
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
