import { describe, expect, it } from 'vitest';
import { compilePoint } from '../../../drivers/modbus/device-config.js';
import {
  clusters, formatPlan, planRequests, splitRequest, unusedCount, type PlanLimits, type ReadRequest,
} from '../../../drivers/modbus/request-plan.js';
import type { ModbusPointConfig } from '../../../drivers/modbus/schema.js';

const LIMITS: PlanLimits = { maxGap: 10, maxRegisters: 125, maxBits: 2000 };

let n = 0;
const pt = (table: ModbusPointConfig['table'], address: number, extra: Partial<ModbusPointConfig> = {}): ModbusPointConfig =>
  ({ name: extra.name ?? `p${n++}`, table, address, ...extra });

/** A plan as (table, start, count, point names) tuples. */
function plan(points: ModbusPointConfig[], limits: Partial<PlanLimits> = {}): [string, number, number, string[]][] {
  return planRequests(points.map(compilePoint), { ...LIMITS, ...limits }).map((r) => [r.table, r.start, r.count, r.points.map((p) => p.name)]);
}

describe('planRequests', () => {
  const cases: { name: string; points: ModbusPointConfig[]; limits?: Partial<PlanLimits>; want: [string, number, number, string[]][] }[] = [
    {
      name: 'contiguous registers: one read',
      points: [pt('holding', 0, { name: 'a' }), pt('holding', 1, { name: 'b' }), pt('holding', 2, { name: 'c' })],
      want: [['holding', 0, 3, ['a', 'b', 'c']]],
    },
    {
      name: 'a gap of exactly max_gap is crossed',
      points: [pt('holding', 0, { name: 'a' }), pt('holding', 11, { name: 'b' })],
      want: [['holding', 0, 12, ['a', 'b']]],
    },
    {
      name: 'a gap of max_gap + 1 is not',
      points: [pt('holding', 0, { name: 'a' }), pt('holding', 12, { name: 'b' })],
      want: [['holding', 0, 1, ['a']], ['holding', 12, 1, ['b']]],
    },
    {
      name: 'max_gap 0: contiguous only',
      points: [pt('input', 0, { name: 'a', type: 'float32' }), pt('input', 2, { name: 'b' }), pt('input', 4, { name: 'c' })],
      limits: { maxGap: 0 },
      want: [['input', 0, 3, ['a', 'b']], ['input', 4, 1, ['c']]],
    },
    {
      name: 'unsorted input is sorted by address',
      points: [pt('holding', 5, { name: 'late' }), pt('holding', 1, { name: 'early' })],
      want: [['holding', 1, 5, ['early', 'late']]],
    },
    {
      name: 'max_registers splits a long run; a value never straddles two reads',
      points: [pt('holding', 0, { name: 'a', type: 'string', length: 100 }), pt('holding', 100, { name: 'b', type: 'string', length: 24 }),
        pt('holding', 124, { name: 'c', type: 'float32' })],
      want: [['holding', 0, 124, ['a', 'b']], ['holding', 124, 2, ['c']]],
    },
    {
      name: 'exactly max_registers fits',
      points: [pt('holding', 0, { name: 'a' }), pt('holding', 124, { name: 'b' })],
      limits: { maxGap: 200 },
      want: [['holding', 0, 125, ['a', 'b']]],
    },
    {
      name: 'a smaller max_registers',
      points: [0, 1, 2, 3, 4].map((a) => pt('input', a, { name: `r${a}` })),
      limits: { maxRegisters: 2 },
      want: [['input', 0, 2, ['r0', 'r1']], ['input', 2, 2, ['r2', 'r3']], ['input', 4, 1, ['r4']]],
    },
    {
      name: 'mixed tables: one read per table at least, fixed table order',
      points: [pt('coil', 0, { name: 'c' }), pt('input', 0, { name: 'i' }), pt('discrete', 3, { name: 'd' }), pt('holding', 0, { name: 'h' })],
      want: [['holding', 0, 1, ['h']], ['input', 0, 1, ['i']], ['coil', 0, 1, ['c']], ['discrete', 3, 1, ['d']]],
    },
    {
      name: 'same address in different tables never merges',
      points: [pt('holding', 7, { name: 'h' }), pt('input', 7, { name: 'i' })],
      want: [['holding', 7, 1, ['h']], ['input', 7, 1, ['i']]],
    },
    {
      name: 'bit points share their register',
      points: [0, 3, 15].map((bit) => pt('holding', 40, { name: `b${bit}`, type: 'bool', bit })).concat(pt('holding', 41, { name: 'w' })),
      want: [['holding', 40, 2, ['b0', 'b3', 'b15', 'w']]],
    },
    {
      name: 'duplicates and overlaps share a read',
      points: [pt('holding', 10, { name: 'whole', type: 'uint32' }), pt('holding', 11, { name: 'low' }), pt('holding', 10, { name: 'high' })],
      want: [['holding', 10, 2, ['whole', 'high', 'low']]],
    },
    {
      name: 'strings and 64-bit values count their full width',
      points: [pt('input', 10, { name: 's', type: 'string', length: 8 }), pt('input', 18, { name: 'u', type: 'uint64' }),
        pt('input', 22, { name: 'f', type: 'float64' })],
      want: [['input', 10, 16, ['s', 'u', 'f']]],
    },
    {
      name: 'coil gaps count in wire bytes: max_gap 10 = 160 bits',
      points: [pt('coil', 0, { name: 'a' }), pt('coil', 160, { name: 'b' }), pt('coil', 322, { name: 'c' })],
      want: [['coil', 0, 161, ['a', 'b']], ['coil', 322, 1, ['c']]],
    },
    {
      name: 'coils use max_bits, not max_registers',
      points: [pt('coil', 0, { name: 'a' }), pt('coil', 1999, { name: 'b' })],
      limits: { maxGap: 2000 },
      want: [['coil', 0, 2000, ['a', 'b']]],
    },
    {
      name: 'max_bits + 1 splits',
      points: [pt('discrete', 0, { name: 'a' }), pt('discrete', 2000, { name: 'b' })],
      limits: { maxGap: 2000 },
      want: [['discrete', 0, 1, ['a']], ['discrete', 2000, 1, ['b']]],
    },
    {
      name: 'empty device: no reads',
      points: [],
      want: [],
    },
  ];
  it.each(cases)('$name', ({ points, limits, want }) => {
    expect(plan(points, limits)).toEqual(want);
  });

  it('never spans more than the limits, and covers every point exactly once (random maps)', () => {
    for (let seed = 1; seed < 50; seed++) {
      let x = seed;
      const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const types = ['uint16', 'float32', 'uint64', 'int16'] as const;
      const points = Array.from({ length: 60 }, (_, i) =>
        pt(rnd() < 0.5 ? 'holding' : 'input', Math.floor(rnd() * 400), { name: `x${i}`, type: types[Math.floor(rnd() * 4)]! }));
      const limits = { maxGap: Math.floor(rnd() * 20), maxRegisters: 10 + Math.floor(rnd() * 115), maxBits: 2000 };
      const reads = planRequests(points.map(compilePoint), limits);
      const seen = reads.flatMap((r) => r.points.map((p) => p.name)).sort();
      expect(seen).toEqual(points.map((p) => p.name).sort());
      for (const r of reads) {
        expect(r.count).toBeLessThanOrEqual(limits.maxRegisters);
        for (const p of r.points) {
          expect(p.address).toBeGreaterThanOrEqual(r.start);
          expect(p.address + p.size).toBeLessThanOrEqual(r.start + r.count);
        }
      }
    }
  });
});

describe('splitRequest after exception 02', () => {
  const read = (points: ModbusPointConfig[]): ReadRequest => planRequests(points.map(compilePoint), { ...LIMITS, maxGap: 100 })[0]!;

  it('halves at cluster boundaries and trims each half to its points', () => {
    const r = read([pt('holding', 0, { name: 'a' }), pt('holding', 1, { name: 'b' }), pt('holding', 20, { name: 'c' }), pt('holding', 30, { name: 'd', type: 'uint32' })]);
    expect(r).toMatchObject({ start: 0, count: 32 });
    const halves = splitRequest(r);
    expect(halves.map((h) => [h.start, h.count, h.points.map((p) => p.name)])).toEqual([[0, 2, ['a', 'b']], [20, 12, ['c', 'd']]]);
  });

  it('never separates points that share registers', () => {
    const r = read([pt('holding', 5, { name: 'b0', type: 'bool', bit: 0 }), pt('holding', 5, { name: 'b1', type: 'bool', bit: 1 }),
      pt('holding', 4, { name: 'wide', type: 'uint32' })]);
    expect(clusters(r)).toHaveLength(1);
    expect(splitRequest(r)).toEqual([r]);
  });

  it('repeated halving isolates a bad address and keeps everything else readable', () => {
    const bad = 13;
    const points = Array.from({ length: 16 }, (_, i) => pt('input', i, { name: `r${i}` }));
    // What the driver does: split whatever the device refuses, until refused reads are single clusters.
    const refuses = (r: ReadRequest) => r.start <= bad && bad < r.start + r.count;
    let work = [read(points)];
    const final: ReadRequest[] = [];
    let requests = 0;
    while (work.length > 0) {
      const r = work.shift()!;
      requests += 1;
      const pieces = refuses(r) ? splitRequest(r) : [r];
      if (pieces.length > 1) work = [...pieces, ...work];
      else final.push(r);
    }
    const refused = final.filter(refuses);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.points.map((p) => p.name)).toEqual(['r13']);
    expect(final.flatMap((r) => r.points)).toHaveLength(16);
    // log2(16) + 1 levels: discovery costs a handful of requests once, the remembered plan 5 reads.
    expect(final).toHaveLength(5);
    expect(requests).toBeLessThanOrEqual(9);
  });
});

describe('formatPlan', () => {
  it('prints one line per read and the points it serves', () => {
    const points = [pt('input', 0, { name: 'voltage_l1', type: 'float32', order: 'CDAB' }), pt('input', 10, { name: 'energy', type: 'uint32' }),
      pt('holding', 1, { name: 'alarm', type: 'bool', bit: 1 }), pt('coil', 0, { name: 'relay' })].map(compilePoint);
    const reads = planRequests(points, LIMITS);
    expect(unusedCount(reads[1]!)).toBe(8);
    const text = formatPlan('meter: modbus tcp 10.0.0.5:502 unit 1', reads, LIMITS, points.length);
    expect(text).toContain('3 reads per poll for 4 points');
    expect(text).toMatch(/#1 holding\s+FC03\s+1\.\.1\s+1 reg\n/);
    expect(text).toMatch(/#2 input\s+FC04\s+0\.\.11\s+12 regs \(8 unused\)/);
    expect(text).toContain('voltage_l1@0 float32 CDAB');
    expect(text).toContain('alarm@1 bit 1');
    expect(text).toMatch(/#3 coil\s+FC01/);
    expect(text).toContain('energy@10(+10) uint32 ABCD');
  });
});
