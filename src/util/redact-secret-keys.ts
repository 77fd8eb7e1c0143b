// The logger's key-based layer: the value of every key isSecretKey names (password, api_key,
// mqtt.passphrase, err.token …) replaced, at any depth, before a line is written. pino's own
// `redact` takes a fixed list of paths, which can neither follow one definition of secret names
// nor reach a secret nested deeper than the paths written out.
import { isSecretKey } from './is-secret-key.js';

// Logged objects are a few levels deep; a deeper value is written as it is rather than walked.
const MAX_DEPTH = 16;

/**
 * The value with the values of secret keys replaced by `censor`. Copies only what it changes:
 * the caller's objects are never modified, and a value without secret keys comes back as is.
 * Errors and other class instances keep their prototype (and message, stack, cause), so pino's
 * error serializer still sees an Error.
 */
export function redactSecretKeys<T>(value: T, censor: string): T {
  return walk(value, censor, 0, new Set()) as T;
}

function walk(value: unknown, censor: string, depth: number, seen: Set<object>): unknown {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH || seen.has(value)) return value;
  // Buffers, Dates and anything else with its own JSON form: what is written is not its keys.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function' || ArrayBuffer.isView(value)) return value;
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      value.forEach((item, i) => {
        const next = walk(item, censor, depth + 1, seen);
        if (next !== item) (copy ??= [...value])[i] = next;
      });
      return copy ?? value;
    }
    let copy: Record<string, unknown> | undefined;
    // An error's cause is its own property but not an enumerable one; pino's serializer writes it.
    const keys = value instanceof Error && Object.hasOwn(value, 'cause') ? [...Object.keys(value), 'cause'] : Object.keys(value);
    for (const key of keys) {
      const item = (value as Record<string, unknown>)[key];
      const next = item !== undefined && isSecretKey(key) ? censor : walk(item, censor, depth + 1, seen);
      if (next === item) continue;
      copy ??= Object.create(Object.getPrototypeOf(value), Object.getOwnPropertyDescriptors(value)) as Record<string, unknown>;
      const { enumerable } = Object.getOwnPropertyDescriptor(value, key)!;
      Object.defineProperty(copy, key, { value: next, enumerable, writable: true, configurable: true });
    }
    return copy ?? value;
  } finally {
    seen.delete(value);
  }
}
