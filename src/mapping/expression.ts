// Computed points: `expr: "p_l1 + p_l2 + p_l3"`. A small parser of our own (no eval, no Function):
// numbers, the device's other points as variables, + − × ÷ (also * and /), unary minus,
// parentheses, and min, max, abs, round. Compiled once per point; evaluated per poll.
//
// Names are letters, digits, `_` and `.`, not starting with a digit; a point name with other
// characters (a `-`) is written in backticks: `` `p-l1` * 2 ``.
//
// A result is bad (null, with the reason) when any input is bad or missing, not a number, or when
// the arithmetic leaves the finite numbers (division by zero, overflow): a value is never made up.

export type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'var'; name: string; at: number }
  | { kind: 'neg'; arg: Expr }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/'; left: Expr; right: Expr }
  | { kind: 'call'; fn: FunctionName; args: Expr[] };

export type FunctionName = 'min' | 'max' | 'abs' | 'round';
const ARITY: Record<FunctionName, [number, number]> = { min: [1, Infinity], max: [1, Infinity], abs: [1, 1], round: [1, 2] };

/** A parse error at a 0-based column of the expression text. */
export class ExpressionError extends Error {
  constructor(message: string, readonly column: number) {
    super(message);
    this.name = 'ExpressionError';
  }
}

export type EvalResult = { ok: true; value: number } | { ok: false; error: string };

export interface CompiledExpression {
  readonly source: string;
  readonly ast: Expr;
  /** Every variable the expression reads, in order of first use. */
  readonly names: readonly string[];
  evaluate(lookup: (name: string) => unknown): EvalResult;
}

export function compileExpression(source: string): CompiledExpression {
  const ast = new Parser(source).parseAll();
  const names: string[] = [];
  walk(ast, (e) => {
    if (e.kind === 'var' && !names.includes(e.name)) names.push(e.name);
  });
  return {
    source,
    ast,
    names,
    evaluate(lookup) {
      try {
        const value = evaluate(ast, lookup);
        if (!Number.isFinite(value)) return { ok: false, error: 'result is not a finite number' };
        return { ok: true, value };
      } catch (err) {
        if (err instanceof BadInput) return { ok: false, error: err.message };
        throw err;
      }
    },
  };
}

class BadInput extends Error {}

function evaluate(e: Expr, lookup: (name: string) => unknown): number {
  switch (e.kind) {
    case 'num':
      return e.value;
    case 'var': {
      const v = lookup(e.name);
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'boolean') return v ? 1 : 0;
      throw new BadInput(v === null || v === undefined ? `${e.name} has no good value` : `${e.name} is not a number`);
    }
    case 'neg':
      return -evaluate(e.arg, lookup);
    case 'bin': {
      const a = evaluate(e.left, lookup);
      const b = evaluate(e.right, lookup);
      if (e.op === '+') return a + b;
      if (e.op === '-') return a - b;
      if (e.op === '*') return a * b;
      if (b === 0) throw new BadInput('division by zero');
      return a / b;
    }
    case 'call': {
      const args = e.args.map((x) => evaluate(x, lookup));
      switch (e.fn) {
        case 'min':
          return args.reduce((m, v) => Math.min(m, v));
        case 'max':
          return args.reduce((m, v) => Math.max(m, v));
        case 'abs':
          return Math.abs(args[0]!);
        case 'round': {
          const digits = args[1] ?? 0;
          if (!Number.isInteger(digits) || digits < 0 || digits > 15) throw new BadInput('round() takes 0 to 15 digits');
          const f = 10 ** digits;
          return Math.round(args[0]! * f) / f;
        }
      }
    }
  }
}

function walk(e: Expr, visit: (e: Expr) => void): void {
  visit(e);
  if (e.kind === 'neg') walk(e.arg, visit);
  else if (e.kind === 'bin') {
    walk(e.left, visit);
    walk(e.right, visit);
  } else if (e.kind === 'call') for (const a of e.args) walk(a, visit);
}

type Token =
  | { t: 'num'; value: number; at: number }
  | { t: 'name'; value: string; at: number }
  | { t: 'op'; value: '+' | '-' | '*' | '/' | '(' | ')' | ','; at: number }
  | { t: 'end'; at: number };

const MAX_LENGTH = 1000;
const MAX_DEPTH = 50;

function tokenize(src: string): Token[] {
  if (src.length > MAX_LENGTH) throw new ExpressionError(`expression longer than ${MAX_LENGTH} characters`, MAX_LENGTH);
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    // Any white space: a YAML block scalar (`expr: |`) brings line breaks and a final newline.
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    const num = /^(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ t: 'num', value: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i));
    if (name) {
      out.push({ t: 'name', value: name[0], at: i });
      i += name[0].length;
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new ExpressionError('unclosed `', i);
      if (end === i + 1) throw new ExpressionError('empty name in backticks', i);
      out.push({ t: 'name', value: src.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const op = ({ '+': '+', '-': '-', '−': '-', '*': '*', '×': '*', '/': '/', '÷': '/', '(': '(', ')': ')', ',': ',' } as const)[c as '+'];
    if (op) {
      out.push({ t: 'op', value: op, at: i });
      i += 1;
      continue;
    }
    throw new ExpressionError(`unexpected ${JSON.stringify(c)}`, i);
  }
  out.push({ t: 'end', at: src.length });
  return out;
}

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  private depth = 0;

  constructor(src: string) {
    this.tokens = tokenize(src);
  }

  parseAll(): Expr {
    if (this.peek().t === 'end') throw new ExpressionError('empty expression', 0);
    const e = this.sum();
    const t = this.peek();
    if (t.t !== 'end') throw new ExpressionError(`unexpected ${describe(t)}`, t.at);
    return e;
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.value === v;
  }

  private sum(): Expr {
    let left = this.product();
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.tokens[this.pos++] as { value: '+' | '-' }).value;
      left = { kind: 'bin', op, left, right: this.product() };
    }
    return left;
  }

  private product(): Expr {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/')) {
      const op = (this.tokens[this.pos++] as { value: '*' | '/' }).value;
      left = { kind: 'bin', op, left, right: this.unary() };
    }
    return left;
  }

  private unary(): Expr {
    if (this.isOp('-') || this.isOp('+')) {
      const minus = this.isOp('-');
      this.pos += 1;
      const arg = this.nested(() => this.unary());
      return minus ? { kind: 'neg', arg } : arg;
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.peek();
    if (t.t === 'num') {
      this.pos += 1;
      return { kind: 'num', value: t.value };
    }
    if (t.t === 'op' && t.value === '(') {
      this.pos += 1;
      const e = this.nested(() => this.sum());
      this.expect(')', t.at);
      return e;
    }
    if (t.t === 'name') {
      this.pos += 1;
      if (!this.isOp('(')) return { kind: 'var', name: t.value, at: t.at };
      const fn = t.value as FunctionName;
      if (!(fn in ARITY)) throw new ExpressionError(`unknown function ${t.value}() (there are min, max, abs, round)`, t.at);
      this.pos += 1;
      const args: Expr[] = [];
      if (!this.isOp(')')) {
        args.push(this.nested(() => this.sum()));
        while (this.isOp(',')) {
          this.pos += 1;
          args.push(this.nested(() => this.sum()));
        }
      }
      this.expect(')', t.at);
      const [lo, hi] = ARITY[fn];
      if (args.length < lo || args.length > hi) {
        throw new ExpressionError(`${fn}() takes ${lo === hi ? lo : hi === Infinity ? `at least ${lo}` : `${lo} or ${hi}`} argument${hi === 1 ? '' : 's'}`, t.at);
      }
      return { kind: 'call', fn, args };
    }
    throw new ExpressionError(t.t === 'end' ? 'expression ends too early' : `unexpected ${describe(t)}`, t.at);
  }

  private nested<T>(parse: () => T): T {
    if (++this.depth > MAX_DEPTH) throw new ExpressionError(`nested more than ${MAX_DEPTH} levels`, this.peek().at);
    try {
      return parse();
    } finally {
      this.depth -= 1;
    }
  }

  private expect(v: ')', openedAt: number): void {
    if (this.isOp(v)) {
      this.pos += 1;
      return;
    }
    const t = this.peek();
    throw new ExpressionError(t.t === 'end' ? `missing ) for the ( at column ${openedAt + 1}` : `expected ) but found ${describe(t)}`, t.at);
  }
}

function describe(t: Token): string {
  if (t.t === 'end') return 'the end';
  if (t.t === 'num') return `number ${t.value}`;
  if (t.t === 'name') return `name ${t.value}`;
  return `"${t.value}"`;
}

/**
 * The order in which computed points of one device can be evaluated, or the points of a cycle.
 * `deps` maps each computed point to the names it reads; names that are not computed are inputs.
 */
export function evaluationOrder(deps: ReadonlyMap<string, readonly string[]>): { order: string[] } | { cycle: string[] } {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const s = state.get(name);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const d of deps.get(name) ?? []) {
      if (!deps.has(d)) continue;
      const cycle = visit(d);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    order.push(name);
    return undefined;
  };
  for (const name of deps.keys()) {
    const cycle = visit(name);
    if (cycle) return { cycle };
  }
  return { order };
}
