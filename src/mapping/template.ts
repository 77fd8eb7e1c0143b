// Topic templates: "{site}/{device}/{point}". Compiled once per point; rendering is a join.
export interface CompiledTemplate {
  readonly source: string;
  readonly variables: readonly string[];
  render(vars: Readonly<Record<string, string>>): string;
}

const VAR_RE = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Variables referenced by a template, in order of first use. */
export function templateVariables(source: string): string[] {
  const seen = new Set<string>();
  for (const m of source.matchAll(VAR_RE)) seen.add(m[1]!);
  return [...seen];
}

export function compileTemplate(source: string): CompiledTemplate {
  const parts: string[] = [];
  const names: string[] = [];
  let last = 0;
  for (const m of source.matchAll(VAR_RE)) {
    parts.push(source.slice(last, m.index));
    names.push(m[1]!);
    last = m.index! + m[0].length;
  }
  parts.push(source.slice(last));
  return {
    source,
    variables: templateVariables(source),
    render(vars) {
      let out = parts[0]!;
      for (let i = 0; i < names.length; i++) {
        const value = vars[names[i]!];
        if (value === undefined) throw new RangeError(`template "${source}": no value for {${names[i]}}`);
        out += value + parts[i + 1]!;
      }
      return out;
    },
  };
}

/** Problems with a rendered MQTT topic name (publish topics may not hold wildcards). */
export function topicProblem(topic: string): string | undefined {
  if (topic.length === 0) return 'topic is empty';
  if (/[+#]/.test(topic)) return `topic "${topic}" contains an MQTT wildcard (+ or #)`;
  if (topic.includes('\u0000')) return 'topic contains a NUL character';
  if (Buffer.byteLength(topic) > 65535) return 'topic is longer than 65535 bytes';
  return undefined;
}

/**
 * The variables a device's topics are rendered with, for validation and mapping alike: its tags,
 * then {site}, {gateway}, {device} and (for a point) {point}, which win over tags of those names.
 * Null prototype: a tag called `constructor` or `__proto__` is a plain name, never an inherited member.
 */
export function topicVariables(
  names: { site: string; gateway: string },
  device: { name: string; tags?: Record<string, string> },
  point?: string,
): Record<string, string> {
  const vars = Object.assign(Object.create(null) as Record<string, string>, device.tags ?? {}, {
    site: names.site, gateway: names.gateway, device: device.name,
  });
  if (point !== undefined) vars.point = point;
  return vars;
}
