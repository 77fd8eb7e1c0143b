// The BLE test bed's tear-down, which every BLE integration test relies on: whatever a test leaves
// behind when it fails halfway — drivers connected, a fake bluetoothd on the bus, the system bus
// pointed elsewhere, a driver whose stop fails or hangs — dispose() stops it all in order and
// leaves no bus daemon, no temp dir and DBUS_SYSTEM_BUS_ADDRESS as it was before start().
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BleDeviceConfig } from '../../../drivers/ble/index.js';
import { BluezTestBed } from './fake-bluez/bluez-test-bed.js';
import { waitFor } from './fake-context.js';

const ENV = 'DBUS_SYSTEM_BUS_ADDRESS';
const ORIGINAL = 'unix:path=/nonexistent/the-real-system-bus';
const ADDRESS = 'C4:7C:8D:6A:12:34';
const ESS = '0000181a-0000-1000-8000-00805f9b34fb';
const TEMPERATURE = '00002a6e-0000-1000-8000-00805f9b34fb';
const FAST = { reconnect: { initial: '50ms', max: '200ms' }, connect_timeout: '2s', timeout: '1s' };

function thermometer(name: string, address = ADDRESS): BleDeviceConfig {
  return { name, driver: 'ble', address, ...FAST, points: [{ name: 't', service: '181a', characteristic: '2a6e', mode: 'read', type: 'int16le' }] };
}

/** The daemon's command line names its config file, which lies in the bus's own temp dir. */
function daemonRunning(dir: string): boolean {
  try {
    execFileSync('pgrep', ['-f', `dbus-daemon --config-file=${dir}/`]);
    return true;
  } catch {
    return false;
  }
}

let saved: string | undefined;
beforeEach(() => {
  saved = process.env[ENV];
});
afterEach(() => {
  if (saved === undefined) delete process.env[ENV];
  else process.env[ENV] = saved;
});

describe('BluezTestBed tear-down', () => {
  it('stops drivers, then bluetoothd, then the daemon, and restores the environment, from a test that stopped halfway', async () => {
    process.env[ENV] = ORIGINAL;
    const bed = await BluezTestBed.start();
    expect(process.env[ENV]).toBe(bed.bus.address);
    expect(daemonRunning(bed.bus.dir)).toBe(true);
    const fake = await bed.startBluez({ devices: [{ address: ADDRESS, services: [{ uuid: ESS, characteristics: [{ uuid: TEMPERATURE }] }] }] });
    const { ctx } = await bed.startDriver(thermometer('cold-room'));
    await waitFor('the connection', () => ctx.recoveries === 1);
    bed.pointSystemBusAt('unix:path=/nonexistent/elsewhere'); // and never undone

    await bed.dispose();
    // The driver disconnected while bluetoothd was still there to hear it.
    expect(fake.device(ADDRESS).connected).toBe(false);
    expect(fake.stats.disconnectCalls).toBe(1);
    expect(process.env[ENV]).toBe(ORIGINAL);
    expect(daemonRunning(bed.bus.dir)).toBe(false);
    expect(existsSync(bed.bus.dir)).toBe(false);
    // A test body outliving its timeout cannot start what nobody would stop.
    await expect(bed.startDriver(thermometer('late'))).rejects.toThrow(/disposed/);
    await expect(bed.startBluez()).rejects.toThrow(/disposed/);
    await bed.dispose();
  });

  it('removes DBUS_SYSTEM_BUS_ADDRESS again when it was not set before', async () => {
    delete process.env[ENV];
    const bed = await BluezTestBed.start();
    expect(process.env[ENV]).toBe(bed.bus.address);
    await bed.dispose();
    expect(ENV in process.env).toBe(false);
  });

  it('finishes tear-down when a driver fails to stop or hangs, then reports both', async () => {
    process.env[ENV] = ORIGINAL;
    const bed = await BluezTestBed.start({ stopDeadlineMs: 300 });
    await bed.startBluez();
    const { driver: failing } = await bed.startDriver(thermometer('failing', 'C4:7C:8D:6A:00:01'));
    const { driver: hanging } = await bed.startDriver(thermometer('hanging', 'C4:7C:8D:6A:00:02'));
    // Both really stop (nothing keeps retrying after the test), then misbehave.
    const stopFailing = failing.stop.bind(failing);
    failing.stop = async () => {
      await stopFailing();
      throw new Error('stop failed');
    };
    const stopHanging = hanging.stop.bind(hanging);
    hanging.stop = async () => {
      await stopHanging();
      await new Promise(() => {});
    };

    const err = await bed.dispose().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(AggregateError);
    expect((err as AggregateError).errors.map((e: Error) => e.message)).toEqual([
      'stopping a BLE driver took longer than 300 ms',
      'stop failed',
    ]);
    expect(process.env[ENV]).toBe(ORIGINAL);
    expect(daemonRunning(bed.bus.dir)).toBe(false);
    expect(existsSync(bed.bus.dir)).toBe(false);
  });
});
