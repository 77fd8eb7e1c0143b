// DeviceFleet with the real sim driver: hosts started and stopped by name, each driver loaded once,
// an unknown driver left out with an error.
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { simDriver, type SimDeviceConfig } from '../../drivers/sim/index.js';
import type { DriverFactory, DriverRegistration } from '../../src/driver-api/index.js';
import type { ResolvedDevice } from '../../src/config/resolved-site.js';
import type { NewEntry } from '../../src/journal/journal.js';
import type { MappingDefaults } from '../../src/mapping/reading-mapper.js';
import { DeviceFleet } from '../../src/scheduler/device-fleet.js';
import { captureLog } from '../support/capture-log.js';

const DEFAULTS: MappingDefaults = { site: 'plant1', gateway: 'gw', topic: '{site}/{device}/{point}', payload: 'json', encoding: 'json', qos: 1 };

function sim(name: string, driver = 'sim'): SimDeviceConfig & ResolvedDevice {
  return { name, driver, interval: '1h', intervalMs: 3_600_000, points: [{ name: 'temp', signal: 'counter' }] } as SimDeviceConfig & ResolvedDevice;
}

function fleet() {
  const log = captureLog();
  const entries: { device: string; topic: string }[] = [];
  const load = vi.fn(async () => simDriver as unknown as DriverFactory);
  const registration = { ...(simDriver as unknown as DriverRegistration), load } as DriverRegistration;
  delete (registration as Partial<DriverFactory>).create;
  const f = new DeviceFleet({
    drivers: [registration], logger: pino({ level: 'info' }, log.destination), clock: { now: () => Date.now() },
    host: (device) => ({ sink: (es: NewEntry[]) => entries.push(...es.map((e) => ({ device: device.name, topic: e.topic }))) }),
  });
  return { f, entries, load, log };
}

describe('DeviceFleet', () => {
  let running: DeviceFleet | undefined;
  afterEach(async () => {
    await running?.stop(running.names());
    running = undefined;
  });

  it('starts a host per device, each polling into its own sink hooks, and loads a driver once for all its devices', async () => {
    const { f, entries, load } = fleet();
    running = f;
    const started = await f.start([sim('a'), sim('b')], DEFAULTS);
    expect(started.map((h) => h.name)).toEqual(['a', 'b']);
    expect(f.names()).toEqual(['a', 'b']);
    expect(f.size).toBe(2);
    expect(f.get('a')).toBe(started[0]);
    expect(load).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(entries.map((e) => e.device).sort()).toEqual(['a', 'b']));
    expect(entries.map((e) => e.topic).sort()).toEqual(['plant1/a/temp', 'plant1/b/temp']);
    await f.start([sim('c')], DEFAULTS);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('stops the named devices only, skipping names it does not run', async () => {
    const { f } = fleet();
    running = f;
    const [a, b] = await f.start([sim('a'), sim('b')], DEFAULTS);
    const stopA = vi.spyOn(a!, 'stop');
    const stopB = vi.spyOn(b!, 'stop');
    await f.stop(['a', 'nope']);
    expect(stopA).toHaveBeenCalledTimes(1);
    expect(stopB).not.toHaveBeenCalled();
    expect(f.names()).toEqual(['b']);
    expect(f.get('a')).toBeUndefined();
  });

  it('leaves out a device whose driver it does not know, with an error, and starts the others', async () => {
    const { f, log } = fleet();
    running = f;
    const started = await f.start([sim('x', 'zigbee'), sim('a')], DEFAULTS);
    expect(started.map((h) => h.name)).toEqual(['a']);
    expect(log.lines()).toContainEqual(expect.objectContaining({ level: 50, device: 'x', driver: 'zigbee', msg: 'unknown driver; device not started' }));
  });
});
