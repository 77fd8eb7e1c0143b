// Computed points (`expr:`) are the core's, whatever the driver: a driver never sees them (it gets
// driverView of its device), and after each poll the core evaluates them from that poll's readings,
// in engineering units (each input's scale and offset applied), in dependency order.
//
// "The same poll" is taken literally: a computed point is produced only from a set of readings that
// holds every one of its inputs (a poll does; a command's read-back of one point does not), so a
// result never mixes values acquired at different times. Any bad input makes the result bad.
import type { PointConfigBase, Reading, Scalar } from '../driver-api/index.js';
import { isComputed } from './driver-view.js';
import { compileExpression, evaluationOrder, type CompiledExpression } from './expression.js';
import { scaleValue } from './reading-mapper.js';

interface ComputedPoint {
  name: string;
  expr: CompiledExpression;
}

/** The computed points of one device, compiled once. Assumes validation passed (names, cycles). */
export class ComputedPoints {
  private readonly ordered: ComputedPoint[];
  private readonly scaling = new Map<string, { scale: number; offset: number }>();

  constructor(points: readonly PointConfigBase[]) {
    const compiled = new Map<string, CompiledExpression>();
    for (const p of points) {
      this.scaling.set(p.name, { scale: p.scale ?? 1, offset: p.offset ?? 0 });
      if (isComputed(p)) compiled.set(p.name, compileExpression(p.expr as string));
    }
    const deps = new Map([...compiled].map(([name, e]) => [name, e.names] as const));
    const order = evaluationOrder(deps);
    if ('cycle' in order) throw new Error(`computed points form a cycle: ${order.cycle.join(' → ')}`);
    this.ordered = order.order.map((name) => ({ name, expr: compiled.get(name)! }));
  }

  get size(): number {
    return this.ordered.length;
  }

  /**
   * The readings plus one reading per computed point whose inputs are all among them (raw value =
   * the expression's result; the mapper applies the computed point's own scale and offset like any
   * other). Readings of computed points already present (a failed poll marks every point bad) win.
   */
  extend(readings: readonly Reading[], now: number): readonly Reading[] {
    if (this.ordered.length === 0 || readings.length === 0) return readings;
    const values = new Map<string, Reading>();
    for (const r of readings) values.set(r.point, r);
    const out = [...readings];
    for (const c of this.ordered) {
      if (values.has(c.name)) continue;
      if (!c.expr.names.every((n) => values.has(n))) continue;
      let ts = Number.NEGATIVE_INFINITY;
      const bad: string[] = [];
      for (const n of c.expr.names) {
        const r = values.get(n)!;
        ts = Math.max(ts, r.ts ?? now);
        if (r.quality === 'bad' || r.value === null) bad.push(n);
      }
      const reading: Reading = bad.length > 0
        ? { point: c.name, value: null, ts, quality: 'bad', error: `input ${bad.join(', ')} is bad` }
        : this.evaluate(c, values, ts);
      values.set(c.name, reading);
      out.push(reading);
    }
    return out;
  }

  private evaluate(c: ComputedPoint, values: ReadonlyMap<string, Reading>, ts: number): Reading {
    const result = c.expr.evaluate((name) => {
      const r = values.get(name);
      if (!r || r.value === null) return undefined;
      const s = this.scaling.get(name);
      // A computed input's reading is its raw result; its own scale and offset apply as for any point.
      return s ? scaleValue(r.value as Scalar, s.scale, s.offset) : r.value;
    });
    if (!result.ok) return { point: c.name, value: null, ts, quality: 'bad', error: result.error };
    return { point: c.name, value: result.value, ts, quality: 'good' };
  }
}
