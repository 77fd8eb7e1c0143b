// Values from the outside (command payloads, device text) end up in logs and result messages. A
// megabyte of text must not become a megabyte of log line: long text is shown as its first
// characters, an ellipsis and its full length.

/** Characters of text shown as is; longer text is cut. */
export const QUOTE_LIMIT = 64;
/** Characters kept from text that is cut. */
const HEAD = 40;

/** `text` if short, else its first characters + "… (N chars)". Never splits a surrogate pair. */
export function boundedText(text: string, limit = QUOTE_LIMIT): string {
  if (text.length <= limit) return text;
  let head = text.slice(0, Math.min(HEAD, limit));
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return `${head}… (${text.length} chars)`;
}

/** A value for a message: text bounded and JSON-quoted (control characters escaped), others as written. */
export function quoteValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(boundedText(value));
  if (typeof value === 'bigint') return boundedText(value.toString());
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return boundedText(safeJson(value));
}

/** A value for a structured log field or a result payload: short values unchanged, long text bounded. */
export function boundedValue<T>(value: T): T | string {
  if (typeof value === 'string') return boundedText(value);
  if (typeof value === 'bigint') return boundedText(value.toString());
  return value;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
