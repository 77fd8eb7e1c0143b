// Computed points (`expr:`): the expression parses (the error at its column in the file), names
// only points of its own device, forms no cycle; the point is not writable and carries no driver
// keys (it is never read from the device); a device keeps at least one point it reads.
import { compileExpression, evaluationOrder, ExpressionError } from '../mapping/expression.js';
import { isComputed } from '../mapping/driver-view.js';
import type { CheckContext, CheckedDevice } from './check-context.js';
import { at } from './schema-errors.js';
import { corePointProperties } from './site-schema.js';
import { didYouMean } from './suggest.js';

export function checkComputedPoints(ctx: CheckContext): void {
  for (const device of ctx.devices) checkDevice(ctx, device);
}

function checkDevice(ctx: CheckContext, device: CheckedDevice): void {
  const points = device.config.points;
  if (!points.some(isComputed)) return;
  const names = points.map((p) => p.name);
  const core = new Set(Object.keys(corePointProperties()));
  const driverKeys = new Set(Object.keys(device.driver.pointSchema.properties).filter((k) => !core.has(k)));
  const deps = new Map<string, readonly string[]>();
  const exprPointer = new Map<string, string>();

  points.forEach((point, i) => {
    if (!isComputed(point)) return;
    const pointer = `${device.pointer}/points/${i}`;
    for (const key of Object.keys(device.written.points[i] ?? {})) {
      if (driverKeys.has(key)) {
        ctx.report(`${pointer}/${key}`, 'key', at(pointer, `'${key}' is read from the device; a computed point (expr) has no ${device.driver.type} keys`));
      }
    }
    if (point.writable === true) {
      ctx.report(`${pointer}/writable`, 'value', at(`${pointer}/writable`, 'a computed point cannot be written'));
    }
    const exprAt = `${pointer}/expr`;
    if (!ctx.isValid(exprAt)) return;
    let compiled;
    try {
      compiled = compileExpression(point.expr as string);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      ctx.report(exprAt, 'value', at(exprAt, `${err.message} (column ${err.column + 1} of the expression)`), err.column);
      return;
    }
    let known = true;
    for (const name of compiled.names) {
      if (names.includes(name)) continue;
      known = false;
      const column = findName(point.expr as string, name);
      ctx.report(
        exprAt,
        'value',
        at(exprAt, `unknown point '${name}'${didYouMean(name, names.filter((n) => n !== point.name))}; an expression reads points of device '${device.config.name}'`),
        column,
      );
    }
    if (known) {
      deps.set(point.name, compiled.names);
      exprPointer.set(point.name, exprAt);
    }
  });

  // Every cycle, not only the first: each found one is reported and taken out before looking again.
  for (let order = evaluationOrder(deps); 'cycle' in order; order = evaluationOrder(deps)) {
    const first = exprPointer.get(order.cycle[0]!)!;
    const text = order.cycle.length === 2 ? `'${order.cycle[0]}' reads itself` : `computed points form a cycle: ${order.cycle.join(' → ')}`;
    ctx.report(first, 'value', at(first, text));
    for (const name of order.cycle) deps.delete(name);
  }
  if (points.every(isComputed)) {
    const pointer = `${device.pointer}/points`;
    ctx.report(pointer, 'value', at(pointer, 'every point is computed: a device needs at least one point read from it'));
  }
}

/** Where a name is written in the expression (plain or in backticks), for the error's column. */
function findName(source: string, name: string): number | undefined {
  const quoted = source.indexOf('`' + name + '`');
  if (quoted >= 0) return quoted;
  const re = new RegExp(`(?<![A-Za-z0-9_.])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_.])`);
  const m = re.exec(source);
  return m ? m.index : undefined;
}
