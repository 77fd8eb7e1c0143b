// Delays beyond Node's 32-bit timer field: a plain setTimeout fires after 1 ms, the chained one on time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, setLongTimeout } from '../../src/util/long-timer.js';

const DAY = 86_400_000;

describe('setLongTimeout', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a plain setTimeout of 30 days fires at once (the defect this module exists for)', () => {
    const fn = vi.fn();
    const silence = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    setTimeout(fn, 30 * DAY);
    vi.advanceTimersByTime(10);
    silence.mockRestore();
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it.each([1, 1000, MAX_TIMER_MS, MAX_TIMER_MS + 1, 30 * DAY, 366 * DAY])('fires once after exactly %i ms', (ms) => {
    const fn = vi.fn();
    setLongTimeout(fn, ms);
    vi.advanceTimersByTime(ms - 1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(400 * DAY);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('clear() stops it in any link of the chain', () => {
    const fn = vi.fn();
    const t = setLongTimeout(fn, 60 * DAY);
    vi.advanceTimersByTime(40 * DAY);
    t.clear();
    t.clear();
    vi.advanceTimersByTime(100 * DAY);
    expect(fn).not.toHaveBeenCalled();
  });

  it('NaN and negative delays fire at once; Infinity never', () => {
    const now = vi.fn();
    const never = vi.fn();
    setLongTimeout(now, Number.NaN);
    setLongTimeout(now, -5);
    setLongTimeout(never, Number.POSITIVE_INFINITY);
    vi.advanceTimersByTime(1);
    expect(now).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(1000 * DAY);
    expect(never).not.toHaveBeenCalled();
  });

  it('holds one Node timer at a time, unref or not', () => {
    const fn = vi.fn();
    const t = setLongTimeout(fn, 40 * DAY).unref();
    vi.advanceTimersByTime(30 * DAY);
    expect(vi.getTimerCount()).toBe(1);
    t.clear();
    expect(vi.getTimerCount()).toBe(0);
  });
});
