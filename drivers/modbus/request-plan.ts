// The request planner: points in, read requests out. Pure, so it is compiled once per device and
// tested table-style; the driver only executes the plan (and splits a request the device refuses).
import type { ValueSpec } from './register-codec.js';
import type { Table, WriteFunction } from './schema.js';

/** A point after defaults were applied, with its footprint in its table. */
export interface CompiledPoint {
  /** Position in the device's points list (stable order for readings). */
  index: number;
  name: string;
  table: Table;
  address: number;
  /** Registers (holding/input) or bits (coil/discrete) the point occupies. */
  size: number;
  spec: ValueSpec;
  writable: boolean;
  writeFunction: WriteFunction;
  /** Index of the scale factor register (a hidden point of the plan) whose 10^sf this value takes. */
  scaleFrom?: number;
}

export interface PlanLimits {
  /**
   * Unused registers a read may span between two points. Coils and discrete inputs count in the
   * same wire bytes: max_gap × 16 bits, since a gap costs bytes on the line, not items.
   */
  maxGap: number;
  maxRegisters: number;
  maxBits: number;
}

export interface ReadRequest {
  table: Table;
  start: number;
  count: number;
  points: CompiledPoint[];
}

export const READ_FUNCTION: Record<Table, number> = { coil: 1, discrete: 2, holding: 3, input: 4 };

const TABLE_ORDER: Table[] = ['holding', 'input', 'coil', 'discrete'];

export const isBitTable = (table: Table): boolean => table === 'coil' || table === 'discrete';

const byAddress = (a: CompiledPoint, b: CompiledPoint) => a.address - b.address || b.size - a.size || a.index - b.index;

function makeRequest(table: Table, points: CompiledPoint[]): ReadRequest {
  // reduce, not Math.min(...list): a list spread into arguments overflows the stack when long.
  const start = points.reduce((min, p) => Math.min(min, p.address), Number.POSITIVE_INFINITY);
  const end = points.reduce((max, p) => Math.max(max, p.address + p.size), Number.NEGATIVE_INFINITY);
  return { table, start, count: end - start, points };
}

/**
 * Fewest reads per table: points sorted by address are swept once, and a point joins the current
 * read while the read stays within the size limit and the hole before the point is at most
 * maxGap (× 16 for bits). Overlapping points (bits of one register, duplicates) share a read. Closing a read
 * earlier than the limits force never lets the next read reach further, so the sweep needs no
 * search.
 */
export function planRequests(points: readonly CompiledPoint[], limits: PlanLimits): ReadRequest[] {
  const plan: ReadRequest[] = [];
  for (const table of TABLE_ORDER) {
    const limit = isBitTable(table) ? limits.maxBits : limits.maxRegisters;
    const maxGap = isBitTable(table) ? limits.maxGap * 16 : limits.maxGap;
    const sorted = points.filter((p) => p.table === table).sort(byAddress);
    let group: CompiledPoint[] = [];
    let start = 0;
    let end = 0;
    for (const p of sorted) {
      const pEnd = p.address + p.size;
      const fits = group.length > 0 && Math.max(end, pEnd) - start <= limit && p.address - end <= maxGap;
      if (fits) {
        group.push(p);
        end = Math.max(end, pEnd);
      } else {
        if (group.length > 0) plan.push(makeRequest(table, group));
        group = [p];
        start = p.address;
        end = pEnd;
      }
    }
    if (group.length > 0) plan.push(makeRequest(table, group));
  }
  return plan;
}

/** Points whose footprints overlap must be read together; clusters are the unit of splitting. */
export function clusters(request: ReadRequest): CompiledPoint[][] {
  const out: CompiledPoint[][] = [];
  let end = -1;
  for (const p of [...request.points].sort(byAddress)) {
    if (out.length > 0 && p.address < end) {
      out[out.length - 1]!.push(p);
    } else {
      out.push([p]);
    }
    end = Math.max(end, p.address + p.size);
  }
  return out;
}

/**
 * Halves a read the device refused (exception 02/03) at a cluster boundary, each half trimmed to
 * its points. Repeated on the halves that fail again, a bad address ends up alone in a read of its
 * own after about log2(points) steps, and every other point keeps being read. Returns the request
 * unchanged (one element) when it cannot be split.
 */
export function splitRequest(request: ReadRequest): ReadRequest[] {
  const groups = clusters(request);
  if (groups.length < 2) return [request];
  const half = Math.ceil(groups.length / 2);
  return [
    makeRequest(request.table, groups.slice(0, half).flat()),
    makeRequest(request.table, groups.slice(half).flat()),
  ];
}

function describePoint(p: CompiledPoint, request: ReadRequest): string {
  const offset = p.address - request.start;
  if (isBitTable(p.table)) return `${p.name}@${p.address}`;
  const type = p.spec.bit !== undefined ? `bit ${p.spec.bit}` : p.spec.type;
  const swapped = p.spec.order === 'BADC' || p.spec.order === 'DCBA';
  const wordOrdered = p.size > 1 && p.spec.type !== 'string' && p.spec.bit === undefined;
  const order = wordOrdered || swapped ? ` ${p.spec.order}` : '';
  const len = p.spec.type === 'string' ? `[${p.size}]` : '';
  return `${p.name}@${p.address}${offset > 0 ? `(+${offset})` : ''} ${type}${len}${order}`;
}

/** Registers (or bits) a read fetches that no point uses: the price of saving requests. */
export function unusedCount(request: ReadRequest): number {
  const used = new Set<number>();
  for (const p of request.points) for (let a = p.address; a < p.address + p.size; a++) used.add(a);
  return request.count - used.size;
}

/** Commissioning view for `fieldgate plan`: one line per read, then the points it serves. */
export function formatPlan(header: string, plan: readonly ReadRequest[], limits: PlanLimits, pointCount: number): string {
  const lines = [
    header,
    `  ${plan.length} read${plan.length === 1 ? '' : 's'} per poll for ${pointCount} point${pointCount === 1 ? '' : 's'}` +
      ` (max_gap ${limits.maxGap}, max_registers ${limits.maxRegisters}, max_bits ${limits.maxBits})`,
  ];
  plan.forEach((r, i) => {
    const unit = (isBitTable(r.table) ? 'bit' : 'reg') + (r.count === 1 ? '' : 's');
    const end = r.start + r.count - 1;
    const unused = unusedCount(r);
    lines.push(
      `  #${i + 1} ${r.table.padEnd(8)} FC${String(READ_FUNCTION[r.table]).padStart(2, '0')}` +
        ` ${String(r.start).padStart(5)}..${String(end).padEnd(5)} ${String(r.count).padStart(4)} ${unit}` +
        `${unused > 0 ? ` (${unused} unused)` : ''}`,
    );
    for (const p of [...r.points].sort(byAddress)) lines.push(`       ${describePoint(p, r)}`);
  });
  return lines.join('\n');
}
