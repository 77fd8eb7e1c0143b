// Turns site-file text into plain JS values while remembering where every value came from, so
// later stages (schema, semantic checks) can report `line:col` for any JSON-pointer path.
// We walk yaml's node tree ourselves instead of calling toJS(): that is where ${VAR} expansion,
// duplicate-key detection and alias limits happen, with the node positions still at hand.
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Node, type Scalar } from 'yaml';
import { expandEnv } from './env-expand.js';
import { isSecretKey } from '../util/is-secret-key.js';

/** Byte offsets into the text: of the key naming a value (if any) and of the value itself. */
export interface SourceSpot {
  key?: number;
  value: number;
  /**
   * Offset of a text value's first character, when the text is written out one to one (plain or
   * quoted on one line, no escapes, no ${VAR}): a position inside the value (the column of an
   * expression error) is then this plus its index.
   */
  text?: number;
}

/** A problem found while reading the YAML, positioned by offset. */
export interface OffsetIssue {
  offset: number;
  message: string;
}

export interface ParsedSource {
  value: unknown;
  /** JSON pointer ('' = root, '/mqtt/url', '/devices/0/name') → where it is in the text. */
  spots: Map<string, SourceSpot>;
  lineCounter: LineCounter;
  issues: OffsetIssue[];
  /** True when the YAML itself is broken; later stages should not run. */
  syntaxBroken: boolean;
  /** Values that came from ${VAR} under a key that names a secret. */
  envSecrets: string[];
  /** Pointers of values that could not be read (unset ${VAR}, bad alias); later stages skip them. */
  brokenPointers: string[];
}

// Text size bounds the values written out; only copies made by aliases need a limit of their own.
const MAX_ALIAS_VALUES = 100_000;
const MAX_DEPTH = 64;
/** YAML 1.1's merge key, which the site file accepts (`<<: *base`). */
const MERGE_KEY = '<<';
const NUMBER_RE = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

export function pointerOf(path: readonly (string | number)[]): string {
  return path.map((seg) => '/' + String(seg).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function parseSource(text: string, env: NodeJS.ProcessEnv): ParsedSource {
  const lineCounter = new LineCounter();
  const result: ParsedSource = {
    value: null,
    spots: new Map(),
    lineCounter,
    issues: [],
    syntaxBroken: false,
    envSecrets: [],
    brokenPointers: [],
  };
  let doc;
  try {
    doc = parseDocument(maskEnvRefs(text), { lineCounter, uniqueKeys: false, prettyErrors: false });
  } catch (err) {
    // The parser recurses; absurd nesting can exhaust the stack. Report it, never crash.
    result.syntaxBroken = true;
    result.issues.push({ offset: 0, message: `cannot parse the file as YAML: ${(err as Error).message}` });
    return result;
  }
  // One broken bracket makes the parser complain about every token after it; the first error on
  // each line, and the first few lines, say everything useful.
  const lines = new Set<number>();
  let omitted = 0;
  for (const problem of [...doc.errors, ...doc.warnings]) {
    const line = lineCounter.linePos(problem.pos[0]).line;
    if (lines.has(line)) continue;
    if (lines.size >= MAX_SYNTAX_LINES) {
      omitted += 1;
      continue;
    }
    lines.add(line);
    result.issues.push({ offset: problem.pos[0], message: `YAML: ${yamlMessage(problem.message)}` });
  }
  if (omitted > 0) {
    result.issues.push({ offset: text.length, message: `YAML: ${omitted} more syntax error(s) after these, most likely caused by the first` });
  }
  if (doc.errors.length > 0) {
    result.syntaxBroken = true;
    return result;
  }
  const walker = new Walker(env, result, text);
  const root = doc.contents as Node | null;
  result.spots.set('', { value: root?.range?.[0] ?? 0 });
  result.value = walker.walk(root, '', undefined, 0);
  return result;
}

const MAX_SYNTAX_LINES = 5;
// ${NAME} is written inside flow collections too (`tcp: { port: ${PORT} }`), where YAML reads the
// braces as structure. Before parsing, each reference becomes $\uE000NAME\uE001 — the same length,
// so every line:col stays exact, and private-use characters that YAML treats as plain text — and
// each scalar is turned back before expansion. `$${` (a literal `${`) is left alone.
const ENV_REF_RE = /(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const MASKED_REF_RE = /\$\uE000([A-Za-z_][A-Za-z0-9_]*)\uE001/g;

function maskEnvRefs(text: string): string {
  return text.includes('${') ? text.replace(ENV_REF_RE, '$$\uE000$1\uE001') : text;
}

function unmaskEnvRefs(value: string): string {
  return value.includes('\uE000') ? value.replace(MASKED_REF_RE, '$${$1}') : value;
}

/** yaml's messages sometimes carry their own " at line N, column M" tail; we print positions ourselves. */
function yamlMessage(message: string): string {
  return message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').trim();
}

class Walker {
  private readonly anchors = new Map<string, Node>();
  private readonly active = new Set<Node>();
  private aliasValues = 0;
  private exhausted = false;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly out: ParsedSource,
    private readonly text: string,
  ) {}

  walk(node: unknown, pointer: string, keyName: string | undefined, depth: number, viaAlias = false): unknown {
    if (node === null || node === undefined) return null;
    if (this.exhausted) return null;
    if (viaAlias && ++this.aliasValues > MAX_ALIAS_VALUES) {
      this.exhausted = true;
      this.broken(node, pointer, `aliases expand to more than ${MAX_ALIAS_VALUES} values; write the values out instead`);
      return null;
    }
    if (depth > MAX_DEPTH) {
      this.broken(node, pointer, `values are nested more than ${MAX_DEPTH} levels deep`);
      return null;
    }
    if (isAlias(node)) {
      const target = this.anchors.get(node.source);
      if (!target) {
        this.broken(node, pointer, `alias *${node.source} has no anchor &${node.source} before it`);
        return null;
      }
      if (this.active.has(target)) {
        this.broken(node, pointer, `alias *${node.source} refers to a value that contains it`);
        return null;
      }
      return this.walk(target, pointer, keyName, depth + 1, true);
    }
    const anchored = node as Node;
    // Anchors count where they are written, not where an alias repeats them.
    if (anchored.anchor && !viaAlias) this.anchors.set(anchored.anchor, anchored);
    this.active.add(anchored);
    try {
      if (isScalar(node)) return this.scalar(node, pointer, keyName);
      if (isMap(node)) return this.map(node.items, pointer, depth, viaAlias);
      if (isSeq(node)) return this.seq(node.items, pointer, depth, viaAlias, keyName);
      this.broken(node, pointer, 'unsupported YAML value');
      return null;
    } finally {
      this.active.delete(anchored);
    }
  }

  private scalar(node: Scalar, pointer: string, keyName: string | undefined): unknown {
    const value: unknown = node.value;
    if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
    if (typeof value === 'bigint') return Number(value);
    if (typeof value !== 'string') {
      const tag = node.tag ?? 'unknown';
      this.broken(node, pointer, `unsupported YAML value (tag ${tag.replace('tag:yaml.org,2002:', '!!')}); write it as plain text`);
      return null;
    }
    const expanded = expandEnv(unmaskEnvRefs(value), this.env);
    if (!expanded.ok) {
      this.broken(node, pointer, expanded.message);
      return value;
    }
    if (!expanded.usedEnv) {
      this.noteTextStart(node, pointer, expanded.value);
      return expanded.value;
    }
    if (keyName !== undefined && isSecretKey(keyName) && expanded.value !== '') {
      this.out.envSecrets.push(expanded.value);
    }
    // An unquoted `qos: ${QOS}` should read like `qos: 1`; quoting keeps the text a string.
    if (node.type === 'PLAIN') {
      if (NUMBER_RE.test(expanded.value)) return Number(expanded.value);
      if (expanded.value === 'true' || expanded.value === 'false') return expanded.value === 'true';
    }
    return expanded.value;
  }

  private noteTextStart(node: Scalar, pointer: string, value: string): void {
    const spot = this.out.spots.get(pointer);
    const range = node.range;
    if (!spot || !range) return;
    const raw = this.text.slice(range[0], range[1]);
    if (node.type === 'PLAIN' && raw === value) spot.text = range[0];
    const quote = node.type === 'QUOTE_DOUBLE' ? '"' : node.type === 'QUOTE_SINGLE' ? "'" : undefined;
    if (quote && raw === quote + value + quote) spot.text = range[0] + 1;
  }

  private map(items: readonly unknown[], pointer: string, depth: number, viaAlias: boolean): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    const firstAt = new Map<string, number>();
    // Keys written in this map win over keys a merge key (<<) brings in, wherever they stand.
    const explicit = new Set<string>();
    for (const pair of items) {
      const k = isPair(pair) && isScalar(pair.key) ? pair.key.value : undefined;
      if (k !== undefined && k !== MERGE_KEY && (typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean')) explicit.add(String(k));
    }
    for (const pair of items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      const keyOffset = keyNode?.range?.[0] ?? 0;
      const keyValue: unknown = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof keyValue !== 'string' && typeof keyValue !== 'number' && typeof keyValue !== 'boolean') {
        this.out.issues.push({ offset: keyOffset, message: 'a key must be plain text' });
        continue;
      }
      const key = String(keyValue);
      if (key === MERGE_KEY && isScalar(keyNode) && keyNode.type === 'PLAIN') {
        this.merge(obj, pair.value, keyOffset, pointer, depth, explicit, firstAt);
        continue;
      }
      const earlier = firstAt.get(key);
      if (earlier !== undefined) {
        const line = this.out.lineCounter.linePos(earlier).line;
        this.out.issues.push({ offset: keyOffset, message: `duplicate key '${key}' (first defined on line ${line})` });
        continue;
      }
      firstAt.set(key, keyOffset);
      this.setKey(obj, key, pair.value, keyOffset, pointer, depth, viaAlias);
    }
    return obj;
  }

  /**
   * `<<: *base` (or `<<: [*a, *b]`): the keys of the referenced maps that this map does not write
   * itself, earlier maps first. Their positions stay where they are written (in the anchored map),
   * so an error in a merged value points at its line.
   */
  private merge(
    obj: Record<string, unknown>, value: unknown, offset: number, pointer: string, depth: number,
    explicit: Set<string>, taken: Map<string, number>,
  ): void {
    const sources = isSeq(value) ? value.items : [value];
    for (const source of sources) {
      const target = isAlias(source) ? this.anchors.get(source.source) : source;
      if (isAlias(source) && target === undefined) {
        this.out.issues.push({ offset, message: `alias *${source.source} has no anchor &${source.source} before it` });
        continue;
      }
      if (target !== undefined && this.active.has(target as Node)) {
        this.out.issues.push({ offset, message: 'the merge key << refers to a map that contains it' });
        continue;
      }
      if (!isMap(target)) {
        this.out.issues.push({ offset, message: 'the merge key << takes a map or a list of maps, usually an alias such as *base' });
        continue;
      }
      for (const pair of target.items) {
        if (!isPair(pair) || !isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (key === MERGE_KEY || explicit.has(key) || taken.has(key)) continue;
        const keyOffset = (pair.key as Node).range?.[0] ?? offset;
        taken.set(key, keyOffset);
        this.setKey(obj, key, pair.value, keyOffset, pointer, depth, true);
      }
    }
  }

  private setKey(obj: Record<string, unknown>, key: string, value: unknown, keyOffset: number, pointer: string, depth: number, viaAlias: boolean): void {
    const childPointer = pointer + pointerOf([key]);
    this.out.spots.set(childPointer, { key: keyOffset, value: valueOffset(value, keyOffset) });
    // defineProperty: a key such as __proto__ must become data, not change the prototype.
    Object.defineProperty(obj, key, {
      value: this.walk(value, childPointer, key, depth + 1, viaAlias),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }

  /** `keyName` is the key the list stands under: `password: [${P}]` is still a password (as writtenSecrets reads it). */
  private seq(items: readonly unknown[], pointer: string, depth: number, viaAlias: boolean, keyName: string | undefined): unknown[] {
    return items.map((item, index) => {
      const childPointer = `${pointer}/${index}`;
      if (isPair(item)) {
        // `[a: 1]` is a one-entry map inside a flow sequence.
        const keyOffset = (item.key as Node | null)?.range?.[0] ?? 0;
        this.out.spots.set(childPointer, { value: keyOffset });
        return this.map([item], childPointer, depth + 1, viaAlias);
      }
      const offset = (item as Node | null)?.range?.[0] ?? this.out.spots.get(pointer)?.value ?? 0;
      this.out.spots.set(childPointer, { value: offset });
      return this.walk(item, childPointer, keyName, depth + 1, viaAlias);
    });
  }

  private issue(node: unknown, message: string): void {
    this.out.issues.push({ offset: (node as Node).range?.[0] ?? 0, message });
  }

  /** A value that could not be read; later stages skip it instead of piling on errors. */
  private broken(node: unknown, pointer: string, message: string): void {
    this.issue(node, message);
    this.out.brokenPointers.push(pointer);
  }
}

/** An empty value (`key:`) has no text of its own; point at its key instead. */
function valueOffset(node: unknown, keyOffset: number): number {
  const range = (node as Node | null)?.range;
  if (!range) return keyOffset;
  if (isScalar(node) && node.value === null && range[0] === range[1]) return keyOffset;
  return range[0];
}
