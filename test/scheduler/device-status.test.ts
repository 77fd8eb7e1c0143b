import { describe, expect, it } from 'vitest';
import { DeviceStatusRecorder } from '../../src/scheduler/device-status.js';

describe('DeviceStatusRecorder', () => {
  it('keeps the last reading of each configured point, whatever the order readings arrive in', () => {
    const status = new DeviceStatusRecorder([{ name: 'a' }, { name: 'b', scale: 0.5 }, { name: 'c' }]);
    status.readings([{ point: 'a', value: 1, ts: 1 }, { point: 'b', value: 2, ts: 1 }, { point: 'c', value: 3, ts: 1 }], 1);
    // Reversed, with an unconfigured point in between and one point missing.
    status.readings([{ point: 'c', value: 30, ts: 2 }, { point: 'ghost', value: 99, ts: 2 }, { point: 'a', value: 10, ts: 2 }], 2);
    status.readings([{ point: 'b', value: null, quality: 'bad', error: 'timeout', ts: 3 }], 3);
    expect(status.lastOf('a')).toEqual({ value: 10, quality: 'good', ts: 2 });
    expect(status.lastOf('b')).toEqual({ value: null, quality: 'bad', error: 'timeout', ts: 3 });
    expect(status.lastOf('c')).toEqual({ value: 30, quality: 'good', ts: 2 });
    expect(status.lastOf('ghost')).toBeUndefined();
    expect(status.lastGoodAt).toBe(2);
  });

  it('dates a reading without a time by when it was recorded, and says nothing of a point never read', () => {
    const status = new DeviceStatusRecorder([{ name: 'a', offset: 10 }, { name: 'b' }]);
    expect(status.lastOf('a')).toBeUndefined();
    status.readings([{ point: 'a', value: 5 }], 42);
    expect(status.lastOf('a')).toEqual({ value: 15, quality: 'good', ts: 42 });
    expect(status.lastOf('b')).toBeUndefined();
    // A bad reading is not a good value: lastGoodAt stays at the last good one.
    status.readings([{ point: 'a', value: 6, quality: 'bad', error: 'stale' }], 50);
    expect(status.lastOf('a')).toEqual({ value: 16, quality: 'bad', error: 'stale', ts: 50 });
    expect(status.lastGoodAt).toBe(42);
  });
});
