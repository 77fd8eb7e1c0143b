// replay_rate's bucket on a hand-moved clock: full at first, refilled at the rate, capped at one
// second's worth, and a pack may overdraw it.
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/forwarder/token-bucket.js';

function bucket(rate: number) {
  const clock = { t: 1_000_000, now() { return this.t; } };
  return { clock, bucket: new TokenBucket(rate, clock) };
}

describe('TokenBucket', () => {
  it('is unlimited at rate 0', () => {
    const { bucket: b } = bucket(0);
    for (let i = 0; i < 10_000; i++) expect(b.take(100)).toBe(0);
  });

  it('starts full: one second of rows at once, then says how long until the next', () => {
    const { bucket: b } = bucket(10);
    for (let i = 0; i < 10; i++) expect(b.take(1)).toBe(0);
    expect(b.take(1)).toBe(100);
  });

  it('refills at the rate and holds at most one second of rows', () => {
    const { clock, bucket: b } = bucket(10);
    for (let i = 0; i < 10; i++) b.take(1);
    clock.t += 100;
    expect(b.take(1)).toBe(0);
    expect(b.take(1)).toBe(100);
    clock.t += 60_000; // a long idle spell refills one second's worth, not a minute's
    for (let i = 0; i < 10; i++) expect(b.take(1)).toBe(0);
    expect(b.take(1)).toBeGreaterThan(0);
  });

  it('lets a pack overdraw, and makes the next publish wait until the debt is paid', () => {
    const { clock, bucket: b } = bucket(10);
    expect(b.take(50)).toBe(0); // 10 - 50 = -40
    expect(b.take(1)).toBe(4100); // 41 tokens at 10/s
    clock.t += 4100;
    expect(b.take(1)).toBe(0);
  });
});
