// MQTT topic filter matching (MQTT 3.1.1 §4.7 / MQTT 5 §4.7): '+' is exactly one level, '#' is
// the rest including the parent level, and wildcards at the start never match topics beginning
// with '$' (broker internals such as $SYS).

/** True when `topic` (a concrete topic name) matches subscription `filter`. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = stripSharePrefix(filter);
  if (topic.charCodeAt(0) === 0x24 /* $ */ && (f.charCodeAt(0) === 0x2b || f.charCodeAt(0) === 0x23)) {
    return false;
  }
  let fi = 0;
  let ti = 0;
  for (;;) {
    const fEnd = levelEnd(f, fi);
    const fLevel = f.slice(fi, fEnd);
    if (fLevel === '#') return true;
    const tEnd = levelEnd(topic, ti);
    if (fLevel !== '+' && fLevel !== topic.slice(ti, tEnd)) return false;
    const fDone = fEnd >= f.length;
    const tDone = tEnd >= topic.length;
    if (fDone && tDone) return true;
    if (tDone) {
      // "a/#" matches "a": the filter may only continue with a final '#'.
      return f.slice(fEnd + 1) === '#';
    }
    if (fDone) return false;
    fi = fEnd + 1;
    ti = tEnd + 1;
  }
}

/** Why `filter` is not a valid subscription filter, or undefined when it is. */
export function filterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'empty filter';
  if (filter.includes('\u0000')) return 'contains NUL';
  if (Buffer.byteLength(filter) > 65535) return 'longer than 65535 bytes';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i += 1) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return "'#' must be a whole level and the last one";
    }
    if (level.includes('+') && level !== '+') return "'+' must be a whole level";
  }
  if (filter.startsWith('$share/')) {
    if (levels.length < 3 || levels[1] === '' || /[+#]/.test(levels[1]!)) return 'invalid shared subscription';
  }
  return undefined;
}

function levelEnd(s: string, from: number): number {
  const i = s.indexOf('/', from);
  return i === -1 ? s.length : i;
}

// "$share/<group>/<filter>" delivers messages matching <filter>.
function stripSharePrefix(filter: string): string {
  if (!filter.startsWith('$share/')) return filter;
  const slash = filter.indexOf('/', 7);
  return slash === -1 ? filter : filter.slice(slash + 1);
}
