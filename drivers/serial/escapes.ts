// Control characters in delimiters, requests and commands. A YAML double-quoted "\r\n" already
// holds CR LF; a single-quoted or plain '\r\n' holds backslash-r-backslash-n. Both must mean the
// same on the wire, so backslash escapes left in the text are decoded here, once, at compile time.
const ESCAPE_RE = /\\(x[0-9a-fA-F]{2}|[rnt0\\e])/g;

const SIMPLE: Record<string, string> = { r: '\r', n: '\n', t: '\t', '0': '\0', '\\': '\\', e: '\x1b' };

/** Decodes \r \n \t \0 \e \\ and \xHH; any other backslash is kept as written. */
export function decodeEscapes(text: string): string {
  return text.replace(ESCAPE_RE, (_all, code: string) =>
    code.startsWith('x') ? String.fromCharCode(parseInt(code.slice(1), 16)) : SIMPLE[code]!,
  );
}

/** The inverse, for logs and `fieldgate plan`: control characters shown as escapes. */
export function showEscapes(text: string): string {
  return text.replace(/[\x00-\x1f\x7f\\]/g, (ch) => {
    if (ch === '\\') return '\\\\';
    const named = Object.entries(SIMPLE).find(([, v]) => v === ch);
    return named ? `\\${named[0]}` : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
