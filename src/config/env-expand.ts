// ${VAR} expansion in site-file strings. Done on each parsed scalar (not on the raw text) so
// line:col positions stay those of the file the user wrote, and a value cannot inject YAML.
export type EnvExpansion =
  | { ok: true; value: string; usedEnv: boolean }
  | { ok: false; message: string };

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Replaces ${NAME} with env[NAME]; `$${` stands for a literal `${`. */
export function expandEnv(text: string, env: NodeJS.ProcessEnv): EnvExpansion {
  if (!text.includes('${')) return { ok: true, value: text, usedEnv: false };
  let out = '';
  let usedEnv = false;
  const missing: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      out += text[i];
      i += 1;
      continue;
    }
    const end = text.indexOf('}', i + 2);
    const name = end < 0 ? '' : text.slice(i + 2, end);
    if (end < 0 || !NAME_RE.test(name)) {
      const shown = end < 0 ? text.slice(i) : text.slice(i, end + 1);
      return {
        ok: false,
        message: `"${shown}" is not a valid environment reference (use \${NAME} with letters, digits and _; write $\${ for a literal \${)`,
      };
    }
    // hasOwn: a plain-object env must not yield inherited members such as `constructor`.
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    if (typeof value !== 'string') {
      if (!missing.includes(name)) missing.push(name);
    } else out += value;
    usedEnv = true;
    i = end + 1;
  }
  if (missing.length === 1) return { ok: false, message: `environment variable ${missing[0]} is not set` };
  if (missing.length > 1) return { ok: false, message: `environment variables ${missing.join(', ')} are not set` };
  return { ok: true, value: out, usedEnv };
}
