// judgeTrial, table-tested with made-up times: when a new version is confirmed, when it fails, and
// what the failure says.
import { describe, expect, it } from 'vitest';
import { judgeTrial, requiredDevices, type TrialObservation } from '../../src/remote-config/trial.js';

const trial = { startedAt: 1000, untilAt: 121_000, required: ['a', 'b'] };
const good = (name: string, at = 2000) => ({ name, healthy: true, lastGoodAt: at });

describe('judgeTrial', () => {
  const rows: [string, number, TrialObservation, string][] = [
    ['connected, every required device read a good value since the change', 5000, { connected: true, devices: [good('a'), good('b')] }, 'confirmed'],
    ['a device not required (failing before) does not hold it back', 5000, { connected: true, devices: [good('a'), good('b'), { name: 'c', healthy: false, lastGoodAt: undefined }] }, 'confirmed'],
    ['not connected yet, within the trial', 5000, { connected: false, devices: [good('a'), good('b')] }, 'pending'],
    ['a good value from before the change does not count', 5000, { connected: true, devices: [good('a'), good('b', 900)] }, 'pending'],
    ['a good value since the change counts even if a later poll was slow', 5000, { connected: true, devices: [good('a'), { ...good('b'), healthy: false }] }, 'confirmed'],
    ['a required device missing', 5000, { connected: true, devices: [good('a')] }, 'pending'],
    ['not connected at the end of the trial', 121_000, { connected: false, devices: [good('a'), good('b')] }, 'failed: the uplink did not connect within 2m'],
    ['devices silent at the end', 121_000, { connected: true, devices: [good('a', 500), { name: 'b', healthy: false, lastGoodAt: undefined }] }, 'failed: devices a, b read no good value within 2m'],
    ['both at the end', 200_000, { connected: false, devices: [good('a')] }, 'failed: the uplink did not connect within 2m; device b read no good value within 2m'],
    ['met at the last moment', 121_000, { connected: true, devices: [good('a', 120_999), good('b')] }, 'confirmed'],
  ];
  it.each(rows)('%s', (_name, now, seen, expected) => {
    const v = judgeTrial(trial, now, seen);
    expect(v.kind === 'failed' ? `failed: ${v.reason}` : v.kind).toBe(expected);
  });

  it('with no device required, the uplink alone decides', () => {
    expect(judgeTrial({ ...trial, required: [] }, 2000, { connected: true, devices: [] }).kind).toBe('confirmed');
  });
});

describe('requiredDevices', () => {
  it('takes the devices healthy before the change that the new file still has', () => {
    const before = [good('a'), { name: 'b', healthy: false, lastGoodAt: undefined }, good('gone')];
    expect(requiredDevices(before, ['a', 'b', 'new'], 3000, 120_000)).toEqual(['a']);
  });

  it('counts a device faulty at the moment of the change that read a good value recently', () => {
    const before = [{ name: 'slow', healthy: false, lastGoodAt: 100_000 }, { name: 'dead', healthy: false, lastGoodAt: 1000 }];
    expect(requiredDevices(before, ['slow', 'dead'], 150_000, 120_000)).toEqual(['slow']);
  });
});
