// Which characters a command string may carry. One predicate for every driver that writes text,
// so "is this safe to send" has one answer.
//
// Refused, as a class: C0 and C1 controls and DEL (\p{Cc}: CR, LF, NUL, ESC, U+0085 NEL, …), format
// characters (\p{Cf}: bidi overrides, zero-width joiners, the BOM, soft hyphen — they can hide
// what a command really says), the Unicode line and paragraph separators U+2028/U+2029, and lone
// surrogates (which become U+FFFD on the wire). Any of them could end a command early, start a
// second one, or make the logged command differ from what the device receives.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/** The first unsafe character of `text` as "U+XXXX", or undefined when the text is safe to send. */
export function unsafeCommandChar(text: string): string | undefined {
  const m = UNSAFE.exec(text);
  if (!m) return undefined;
  return `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}
