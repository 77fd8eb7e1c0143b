// Fills what a config object leaves out from a table of defaults: a key missing (or undefined) in
// `value` takes the default; a nested plain object (a `reconnect: { initial, max }`) is filled the
// same way, one key at a time. What `value` sets always wins; keys the defaults do not name pass
// through untouched.
export function mergeDefaults<T extends object>(defaults: Partial<T>, value: T): T {
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, def] of Object.entries(defaults as Record<string, unknown>)) {
    const given = out[key];
    if (given === undefined) out[key] = def;
    else if (isPlainObject(def) && isPlainObject(given)) out[key] = mergeDefaults(def, given);
  }
  return out as T;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}
