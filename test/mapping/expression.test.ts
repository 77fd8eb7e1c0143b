// Computed points' expressions, table-tested: values, precedence, bad inputs, division by zero,
// parse errors with their column, and evaluation order with cycles.
import { describe, expect, it } from 'vitest';
import { ExpressionError, compileExpression, evaluationOrder } from '../../src/mapping/expression.js';

const VARS: Record<string, unknown> = { p_l1: 1000, p_l2: 1500.5, p_l3: 999.5, 'p-l4': 4, zero: 0, neg: -7, on: true, name: 'run', missing: null, big: 12n };
const lookup = (n: string) => VARS[n];

describe('compileExpression', () => {
  const values: [string, number][] = [
    ['p_l1 + p_l2 + p_l3', 3500],
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['24 / 4 / 3', 2],
    ['2 × 3 ÷ 4', 1.5],
    ['7 − 2', 5],
    ['-neg', 7],
    ['--3', 3],
    ['-(2 + 3) * 2', -10],
    ['abs(neg)', 7],
    ['min(p_l1, p_l2, p_l3)', 999.5],
    ['max(3)', 3],
    ['round(p_l2)', 1501],
    ['round(2 / 3, 2)', 0.67],
    ['`p-l4` * 2', 8],
    ['on + 1', 2],
    ['big * 2', 24],
    ['1.5e3 + .5', 1500.5],
    ['p_l1 / 1000 * 230', 230],
    ['p_l1 +\n  p_l2\r\n+ p_l3\n', 3500],
  ];
  it.each(values)('%s = %s', (src, expected) => {
    const r = compileExpression(src).evaluate(lookup);
    expect(r).toEqual({ ok: true, value: expected });
  });

  const bad: [string, RegExp][] = [
    ['p_l1 / zero', /division by zero/],
    ['missing + 1', /missing has no good value/],
    ['unknown * 2', /unknown has no good value/],
    ['name + 1', /name is not a number/],
    ['round(1, 0.5)', /round\(\) takes 0 to 15 digits/],
    ['1e308 * 10', /not a finite number/],
  ];
  it.each(bad)('%s is bad: %s', (src, why) => {
    const r = compileExpression(src).evaluate(lookup);
    expect(r.ok).toBe(false);
    expect((r as { error: string }).error).toMatch(why);
  });

  const errors: [string, RegExp, number][] = [
    ['', /empty expression/, 0],
    ['1 +', /ends too early/, 3],
    ['(1 + 2', /missing \) for the \( at column 1/, 6],
    ['1 + * 2', /unexpected "\*"/, 4],
    ['p_l1 $ 2', /unexpected "\$"/, 5],
    ['sqrt(4)', /unknown function sqrt\(\)/, 0],
    ['abs(1, 2)', /abs\(\) takes 1 argument/, 0],
    ['round()', /round\(\) takes 1 or 2 arguments/, 0],
    ['min()', /min\(\) takes at least 1 argument/, 0],
    ['`p-l4', /unclosed `/, 0],
    ['1 2', /unexpected number 2/, 2],
    ['('.repeat(60) + '1' + ')'.repeat(60), /nested more than 50 levels/, 51],
  ];
  it.each(errors)('%j fails to parse: %s at column %i', (src, message, column) => {
    let err: unknown;
    try {
      compileExpression(src);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExpressionError);
    expect((err as ExpressionError).message).toMatch(message);
    expect((err as ExpressionError).column).toBe(column);
  });

  it('lists the names it reads, once each, in order', () => {
    expect(compileExpression('max(b, a) + b * `c-d` - round(a)').names).toEqual(['b', 'a', 'c-d']);
  });

  it('never evaluates code: a name is only ever looked up', () => {
    const seen: string[] = [];
    compileExpression('constructor + __proto__').evaluate((n) => {
      seen.push(n);
      return 1;
    });
    expect(seen).toEqual(['constructor', '__proto__']);
  });
});

describe('evaluationOrder', () => {
  it('orders computed points after the computed points they read', () => {
    const deps = new Map([['total', ['p1', 'sub']], ['sub', ['p2', 'p3']], ['ratio', ['total', 'p1']]]);
    expect(evaluationOrder(deps)).toEqual({ order: ['sub', 'total', 'ratio'] });
  });

  it('names the points of a cycle', () => {
    const deps = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', []]]);
    expect(evaluationOrder(deps)).toEqual({ cycle: ['a', 'b', 'c', 'a'] });
    expect(evaluationOrder(new Map([['x', ['x']]]))).toEqual({ cycle: ['x', 'x'] });
  });
});
