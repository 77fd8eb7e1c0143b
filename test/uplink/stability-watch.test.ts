import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { StabilityWatch } from '../../src/uplink/stability-watch.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

it('is stable only at the first broker packet after the period, and says so once', () => {
  const onStable = vi.fn();
  const watch = new StabilityWatch(1000, onStable);
  watch.start();
  watch.heard(); // the online status PUBACK, right after CONNACK
  vi.advanceTimersByTime(999);
  watch.heard();
  expect(onStable).not.toHaveBeenCalled();
  vi.advanceTimersByTime(1);
  // Up long enough, but silent since: a connection that went dead after CONNACK never qualifies.
  vi.advanceTimersByTime(60_000);
  expect(onStable).not.toHaveBeenCalled();
  watch.heard();
  expect(onStable).toHaveBeenCalledTimes(1);
  expect(watch.stable).toBe(true);
  watch.heard();
  expect(onStable).toHaveBeenCalledTimes(1);
});

it('a connection that ends before the period never becomes stable', () => {
  const onStable = vi.fn();
  const watch = new StabilityWatch(1000, onStable);
  watch.start();
  vi.advanceTimersByTime(500);
  watch.stop();
  vi.advanceTimersByTime(5000);
  watch.heard();
  expect(onStable).not.toHaveBeenCalled();
  expect(watch.stable).toBe(false);
});
