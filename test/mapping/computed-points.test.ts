// Computed points after a poll: engineering units in, dependency order, bad inputs, partial
// reading sets (a read-back), and the driver's view of a device.
import { describe, expect, it } from 'vitest';
import type { PointConfigBase, Reading } from '../../src/driver-api/index.js';
import { ComputedPoints } from '../../src/mapping/computed-points.js';
import { driverIndexMap, driverView } from '../../src/mapping/driver-view.js';

const POINTS: PointConfigBase[] = [
  { name: 'p_l1', scale: 0.1 },
  { name: 'p_l2' },
  { name: 'p_l3', offset: -1 },
  // Written before its input: evaluation follows dependencies, not the list.
  { name: 'total_kw', expr: 'total / 1000' },
  { name: 'total', expr: 'p_l1 + p_l2 + p_l3' },
  { name: 'ratio', expr: 'p_l1 / p_l2' },
  { name: 'scaled', expr: 'p_l2 * 2', scale: 10 },
  { name: 'from_scaled', expr: 'scaled + 1' },
];
const NOW = 1_000;
const good = (point: string, value: number, ts = 900): Reading => ({ point, value, ts, quality: 'good' });
const COMPUTED = new Set(POINTS.filter((p) => p.expr !== undefined).map((p) => p.name));
const computedOf = (out: readonly Reading[]) => Object.fromEntries(out.filter((r) => COMPUTED.has(r.point)).map((r) => [r.point, r.quality === 'bad' ? `bad: ${r.error}` : r.value]));

describe('ComputedPoints', () => {
  const computed = new ComputedPoints(POINTS);

  it('evaluates every computed point from the scaled inputs of the same poll, in dependency order', () => {
    const out = computed.extend([good('p_l1', 10000), good('p_l2', 1500), good('p_l3', 1001)], NOW);
    // p_l1 = 1000 (× 0.1), p_l3 = 1000 (− 1); a computed input counts with its own scale.
    expect(computedOf(out)).toEqual({ total: 3500, total_kw: 3.5, ratio: 1000 / 1500, scaled: 3000, from_scaled: 30001 });
    expect(out.slice(0, 3).map((r) => r.point)).toEqual(['p_l1', 'p_l2', 'p_l3']);
    expect(out.find((r) => r.point === 'total')!.ts).toBe(900);
  });

  const cases: [string, Reading[], Record<string, unknown>][] = [
    [
      'a bad input makes every result that reads it bad, and only those',
      [good('p_l1', 10), { point: 'p_l2', value: null, quality: 'bad', error: 'timeout' }, good('p_l3', 1)],
      { total: 'bad: input p_l2 is bad', total_kw: 'bad: input total is bad', ratio: 'bad: input p_l2 is bad', scaled: 'bad: input p_l2 is bad', from_scaled: 'bad: input scaled is bad' },
    ],
    [
      'division by zero is bad, not Infinity',
      [good('p_l1', 10), good('p_l2', 0), good('p_l3', 1)],
      { total: 1, total_kw: 0.001, ratio: 'bad: division by zero', scaled: 0, from_scaled: 1 },
    ],
    [
      'a text input is bad',
      [good('p_l1', 10), { point: 'p_l2', value: 'on', quality: 'good' }, good('p_l3', 1)],
      { total: 'bad: p_l2 is not a number', total_kw: 'bad: input total is bad', ratio: 'bad: p_l2 is not a number', scaled: 'bad: p_l2 is not a number', from_scaled: 'bad: input scaled is bad' },
    ],
    [
      'a set of readings yields only the computed points whose inputs are all in it (a read-back of one point)',
      [good('p_l2', 5)],
      // scaled reads only p_l2: it is computed; total and ratio need the other inputs.
      { scaled: 10, from_scaled: 101 },
    ],
  ];
  it.each(cases)('%s', (_title, readings, expected) => {
    expect(computedOf(computed.extend(readings, NOW))).toEqual(expected);
  });

  it('keeps readings of computed points already given (a failed poll marks every point bad)', () => {
    const bad = POINTS.map((p) => ({ point: p.name, value: null, quality: 'bad' as const, error: 'down' }));
    expect(computed.extend(bad, NOW)).toEqual(bad);
  });

  it('returns the readings untouched when the device has no computed point', () => {
    const readings = [good('a', 1)];
    expect(new ComputedPoints([{ name: 'a' }]).extend(readings, NOW)).toBe(readings);
  });

  it('refuses a cycle (validation reports it first)', () => {
    expect(() => new ComputedPoints([{ name: 'a', expr: 'b' }, { name: 'b', expr: 'a' }])).toThrow(/cycle: a → b → a/);
  });
});

describe('driverView', () => {
  it('hides computed points from the driver and maps its point indices back to the file', () => {
    const device = { name: 'd', driver: 'sim', points: POINTS };
    expect(driverView(device).points.map((p) => p.name)).toEqual(['p_l1', 'p_l2', 'p_l3']);
    expect(driverIndexMap({ ...device, points: [POINTS[4]!, POINTS[0]!, POINTS[5]!, POINTS[1]!] })).toEqual([1, 3]);
    const plain = { name: 'd', driver: 'sim', points: [{ name: 'a' }] };
    expect(driverView(plain)).toBe(plain);
  });
});
