// Broker URLs may carry credentials (mqtt://user:secret@host); logs must never show them.

/** The URL with any user/password part removed; unparsable input is replaced wholesale. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}
