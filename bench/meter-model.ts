// Synthetic energy meters for the wire-size benchmark: realistic point names, units and value
// shapes (a voltage wanders around 230.0 V with one decimal, an energy counter only grows), so
// byte counts reflect what a site would send rather than what compresses best.
import type { DeviceConfigBase, Reading } from '../src/driver-api/index.js';

interface PointKind {
  name: string;
  unit: string;
  start: number;
  step: number;
  decimals: number;
  min: number;
  max: number;
  /** Counters only grow. */
  counter?: boolean;
}

// The ten points of a typical three-phase meter; larger devices repeat them per circuit.
const KINDS: PointKind[] = [
  { name: 'voltage_l1', unit: 'V', start: 230.4, step: 0.4, decimals: 1, min: 225, max: 236 },
  { name: 'voltage_l2', unit: 'V', start: 231.1, step: 0.4, decimals: 1, min: 225, max: 236 },
  { name: 'voltage_l3', unit: 'V', start: 229.8, step: 0.4, decimals: 1, min: 225, max: 236 },
  { name: 'current_l1', unit: 'A', start: 12.31, step: 0.6, decimals: 2, min: 0, max: 63 },
  { name: 'current_l2', unit: 'A', start: 9.87, step: 0.6, decimals: 2, min: 0, max: 63 },
  { name: 'current_l3', unit: 'A', start: 14.02, step: 0.6, decimals: 2, min: 0, max: 63 },
  { name: 'power', unit: 'W', start: 8312, step: 140, decimals: 0, min: 0, max: 40000 },
  { name: 'energy', unit: 'kWh', start: 48213.55, step: 0.02, decimals: 2, min: 0, max: 1e9, counter: true },
  { name: 'frequency', unit: 'Hz', start: 50.01, step: 0.01, decimals: 2, min: 49.9, max: 50.1 },
  { name: 'pf', unit: '', start: 0.97, step: 0.01, decimals: 2, min: 0.8, max: 1 },
];

export function meterPoints(count: number): PointKind[] {
  return Array.from({ length: count }, (_, i) => {
    const kind = KINDS[i % KINDS.length]!;
    const circuit = Math.floor(i / KINDS.length);
    return circuit === 0 ? kind : { ...kind, name: `${kind.name}_c${circuit + 1}` };
  });
}

export function meterDevice(name: string, points: number): DeviceConfigBase {
  return {
    name,
    driver: 'sim',
    points: meterPoints(points).map((p) => (p.unit === '' ? { name: p.name } : { name: p.name, unit: p.unit })),
  };
}

/** Deterministic readings: `polls` polls of one meter, `intervalMs` apart with a few ms of jitter. */
export function meterPolls(points: number, polls: number, startTs: number, intervalMs: number, seed: number): Reading[][] {
  const random = mulberry32(seed);
  const kinds = meterPoints(points);
  const state = kinds.map((k) => k.start);
  const out: Reading[][] = [];
  for (let poll = 0; poll < polls; poll++) {
    const ts = startTs + poll * intervalMs + Math.floor(random() * 4);
    out.push(
      kinds.map((k, i) => {
        const move = k.counter ? random() * k.step : (random() - 0.5) * 2 * k.step;
        state[i] = Math.min(k.max, Math.max(k.min, state[i]! + move));
        return { point: k.name, value: Number(state[i]!.toFixed(k.decimals)), ts };
      }),
    );
  }
  return out;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
