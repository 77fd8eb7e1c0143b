// Whether a new version proved itself: a pure judgement of what the gateway reports, so the rules
// are table-tested with made-up times. A version is confirmed as soon as the uplink is connected
// and every device that was healthy before the change (and is still configured) has read a good
// value since the change; it fails when that has not happened by the end of the trial.
import { formatDuration } from '../util/duration.js';

export interface DeviceObservation {
  name: string;
  healthy: boolean;
  /** Last good value read, epoch ms. */
  lastGoodAt: number | undefined;
}

export interface TrialObservation {
  connected: boolean;
  devices: readonly DeviceObservation[];
}

export interface TrialWindow {
  startedAt: number;
  untilAt: number;
  required: readonly string[];
}

export type TrialVerdict =
  | { kind: 'pending'; waitingFor: string[] }
  | { kind: 'confirmed' }
  | { kind: 'failed'; reason: string };

/**
 * The devices a trial waits for: those healthy before the change — in a fault-free state, or
 * having read a good value within `recentMs` (a single timeout at the moment of the change must not
 * excuse a device from the trial) — and still in the new file.
 */
export function requiredDevices(before: readonly DeviceObservation[], nextNames: readonly string[], now: number, recentMs: number): string[] {
  const next = new Set(nextNames);
  const wasHealthy = (d: DeviceObservation) => d.healthy || (d.lastGoodAt !== undefined && now - d.lastGoodAt <= recentMs);
  return before.filter((d) => wasHealthy(d) && next.has(d.name)).map((d) => d.name);
}

export function judgeTrial(trial: TrialWindow, now: number, seen: TrialObservation): TrialVerdict {
  const byName = new Map(seen.devices.map((d) => [d.name, d]));
  const silent = trial.required.filter((name) => {
    const d = byName.get(name);
    // A good value since the change is what counts; a fault flag raised since then by a single slow
    // poll does not undo it.
    return d === undefined || d.lastGoodAt === undefined || d.lastGoodAt < trial.startedAt;
  });
  const waitingFor = [...(seen.connected ? [] : ['uplink']), ...silent.map((n) => `device ${n}`)];
  if (waitingFor.length === 0) return { kind: 'confirmed' };
  if (now < trial.untilAt) return { kind: 'pending', waitingFor };
  const within = formatDuration(trial.untilAt - trial.startedAt);
  const parts = [
    ...(seen.connected ? [] : [`the uplink did not connect within ${within}`]),
    ...(silent.length === 0 ? [] : [`${silent.length === 1 ? 'device' : 'devices'} ${silent.join(', ')} read no good value within ${within}`]),
  ];
  return { kind: 'failed', reason: parts.join('; ') };
}
