import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/util/backoff.js';

/** A deterministic random() cycling through the given values. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('Backoff', () => {
  it('keeps the first delay within 1 s by default (half to full ceiling)', () => {
    expect(new Backoff({ random: () => 0 }).next()).toBe(500);
    expect(new Backoff({ random: () => 0.999999 }).next()).toBe(1000);
    for (let i = 0; i < 200; i += 1) {
      const d = new Backoff().next();
      expect(d).toBeGreaterThanOrEqual(500);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });

  it('doubles the ceiling on every attempt', () => {
    const top = new Backoff({ initialMs: 100, maxMs: 100_000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5].map(() => top.next())).toEqual([100, 200, 400, 800, 1600]);
    const bottom = new Backoff({ initialMs: 100, maxMs: 100_000, random: () => 0 });
    expect([1, 2, 3, 4].map(() => bottom.next())).toEqual([50, 100, 200, 400]);
  });

  it('caps at maxMs (30 s by default) and stays there', () => {
    const b = new Backoff({ random: () => 0.999999 });
    const delays = Array.from({ length: 40 }, () => b.next());
    expect(Math.max(...delays)).toBe(30_000);
    expect(delays.slice(-10)).toEqual(Array(10).fill(30_000));
    const low = new Backoff({ random: () => 0 });
    const lows = Array.from({ length: 40 }, () => low.next());
    expect(lows.at(-1)).toBe(15_000);
  });

  it('does not overflow after very many attempts', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 30_000 });
    for (let i = 0; i < 5000; i += 1) {
      const d = b.next();
      expect(Number.isFinite(d)).toBe(true);
      expect(d).toBeLessThanOrEqual(30_000);
    }
  });

  it('reset() starts again from the first delay and counts attempts', () => {
    const b = new Backoff({ initialMs: 200, random: () => 0.999999 });
    b.next();
    b.next();
    b.next();
    expect(b.attempts).toBe(3);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(200);
  });

  it('jitters uniformly over [ceiling/2, ceiling]', () => {
    const b = new Backoff({ initialMs: 1000, random: sequence(0, 0.25, 0.5, 0.75) });
    const ceilings = [1000, 2000, 4000, 8000];
    expect(ceilings.map(() => b.next())).toEqual([500, 1250, 3000, 7000]);

    const spread = Array.from({ length: 2000 }, () => new Backoff({ initialMs: 1000 }).next());
    expect(Math.min(...spread)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...spread)).toBeLessThanOrEqual(1000);
    // Uniform: both halves of the range get a fair share (bounds far outside random variation).
    const lowerHalf = spread.filter((d) => d < 750).length;
    expect(lowerHalf).toBeGreaterThan(800);
    expect(lowerHalf).toBeLessThan(1200);
    expect(new Set(spread).size).toBeGreaterThan(100);
  });
});
