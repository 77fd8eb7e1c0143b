// No problem report may quote a secret. Two layers, like the logger's: values under secret keys
// are never shown by the schema messages (schema-errors.ts), and every finished message is
// scrubbed of the secrets the file revealed (passwords written or from ${VAR}, password_file
// contents, the password part of broker URLs) and of any URL's user:password@ part, so a check
// that echoes a value — ours or a driver's — cannot leak one. Which keys hold secrets is
// isSecretKey's answer, the same one the logger uses.
import { isSecretKey } from '../util/is-secret-key.js';

const HIDDEN = '***';
// scheme://user:password@ — also inside text that is not a valid URL.
const URL_USERINFO_RE = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/?#@:"]*):([^\s/?#"]*)@/g;
// Shorter secrets would blank out unrelated words and line numbers; the key-based layer covers them.
const MIN_SCRUBBED_LENGTH = 3;

/** `mqtt://user:***@host`: the password part of every URL in the text hidden. */
export function maskUrlPasswords(text: string): string {
  return text.replace(URL_USERINFO_RE, (_m, scheme: string, user: string) => `${scheme}${user}:${HIDDEN}@`);
}

/**
 * A URL as it may be shown: the password of `scheme://user:password@host` replaced by ***. Works
 * on text that is not a valid URL too (a password with a space in it), taking everything up to
 * the last @ as user information.
 */
export function showUrl(text: string): string {
  const parts = userinfo(text);
  if (!parts) return maskUrlPasswords(text);
  return `${parts.scheme}${parts.user}${parts.password === undefined ? '' : `:${HIDDEN}`}@${parts.rest}`;
}

/** The password parts of a URL-like value, as written and percent-decoded. */
export function urlPasswords(text: string): string[] {
  const out: string[] = [];
  const raws = [userinfo(text)?.password, ...[...text.matchAll(URL_USERINFO_RE)].map((m) => m[3])];
  for (const raw of raws) {
    if (raw === undefined || raw === '') continue;
    out.push(raw);
    try {
      out.push(decodeURIComponent(raw));
    } catch {
      // Malformed escapes: the raw text is all there is to hide.
    }
  }
  return out;
}

function userinfo(text: string): { scheme: string; user: string; password?: string; rest: string } | undefined {
  const start = text.indexOf('://');
  const end = text.lastIndexOf('@');
  if (start < 0 || end < start + 3) return undefined;
  const info = text.slice(start + 3, end);
  const colon = info.indexOf(':');
  return {
    scheme: text.slice(0, start + 3),
    user: colon < 0 ? info : info.slice(0, colon),
    password: colon < 0 ? undefined : info.slice(colon + 1),
    rest: text.slice(end + 1),
  };
}

/** Secrets written in the file itself (values of secret keys, URL passwords), valid file or not. */
export function writtenSecrets(root: unknown): string[] {
  const out: string[] = [];
  // An explicit stack: the value may be nested deep, and recursion is what the validator avoids.
  const stack: { value: unknown; key: string | undefined }[] = [{ value: root, key: undefined }];
  while (stack.length > 0) {
    const { value, key } = stack.pop()!;
    const secretKey = key !== undefined && isSecretKey(key);
    if (typeof value === 'string') {
      if (secretKey) out.push(value);
      for (const p of urlPasswords(value)) out.push(p);
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      if (secretKey) out.push(String(value));
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push({ value: item, key });
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) stack.push({ value: v, key: k });
    }
  }
  return out;
}

/** The message with URL passwords and every known secret replaced by ***. */
export function scrubSecrets(message: string, secrets: readonly string[]): string {
  let out = maskUrlPasswords(message);
  // Longest first, so a secret that contains another is hidden whole.
  const ordered = [...new Set(secrets)].filter((s) => s.length >= MIN_SCRUBBED_LENGTH).sort((a, b) => b.length - a.length);
  for (const secret of ordered) {
    for (const form of [secret, JSON.stringify(secret).slice(1, -1)]) {
      if (out.includes(form)) out = out.split(form).join(HIDDEN);
    }
  }
  return out;
}
