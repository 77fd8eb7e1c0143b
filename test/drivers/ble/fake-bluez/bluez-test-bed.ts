// What every BLE integration test stands on: a private bus daemon selected as the system bus, the
// fake bluetoothds on it and the BLE drivers under test. The bed owns all of them so that tear-down
// happens in one place and in one order — drivers first (so none sees bluetoothd vanish and starts
// retrying), then the fakes, then DBUS_SYSTEM_BUS_ADDRESS, then the daemon — and every step runs
// even when an earlier one fails or hangs: a test that fails halfway must not leave a dbus-daemon
// behind or the environment pointing at a dead socket.
import { expect } from 'vitest';
import type { Driver } from '../../../../src/driver-api/index.js';
import { bleDriver, type BleDeviceConfig } from '../../../../drivers/ble/index.js';
import { RecordingContext } from '../fake-context.js';
import { FakeBluez, type FakeDeviceSpec } from './fake-bluez.js';
import { startPrivateBus, type PrivateBus } from './private-bus.js';

const SYSTEM_BUS_ENV = 'DBUS_SYSTEM_BUS_ADDRESS';

export interface BluezTestBedOptions {
  /**
   * How long each tear-down step may take before it counts as failed and the next one runs.
   * Default 5000: far longer than a working driver needs, short enough that the rest of
   * tear-down still fits in the hook timeout.
   */
  stopDeadlineMs?: number;
}

export interface BluezSetup {
  /** The state of adapter hci0: `none` is BlueZ running without any adapter. Default `powered`. */
  adapter?: 'powered' | 'unpowered' | 'none';
  /** Devices BlueZ already knows on hci0. */
  devices?: FakeDeviceSpec[];
}

export interface StartedDriver {
  driver: Driver;
  ctx: RecordingContext;
}

export class BluezTestBed {
  private readonly drivers: Driver[] = [];
  private readonly fakes: FakeBluez[] = [];
  private disposed = false;

  private constructor(
    /** The daemon; a test may stop it early to see the drivers lose their bus. */
    readonly bus: PrivateBus,
    private readonly originalSystemBus: string | undefined,
    private readonly stopDeadlineMs: number,
  ) {}

  /** Starts a private bus daemon and points DBUS_SYSTEM_BUS_ADDRESS at it until dispose(). */
  static async start(options: BluezTestBedOptions = {}): Promise<BluezTestBed> {
    const bus = await startPrivateBus();
    const bed = new BluezTestBed(bus, process.env[SYSTEM_BUS_ENV], options.stopDeadlineMs ?? 5000);
    setSystemBus(bus.address);
    return bed;
  }

  /** A fake bluetoothd on the bed's bus; several may run one after another (a restart). */
  async startBluez(setup: BluezSetup = {}): Promise<FakeBluez> {
    this.assertOpen('start a fake bluetoothd');
    const fake = await FakeBluez.start(this.bus.address);
    this.fakes.push(fake);
    const adapter = setup.adapter ?? 'powered';
    if (adapter !== 'none') fake.addAdapter('hci0', { powered: adapter === 'powered' });
    for (const device of setup.devices ?? []) fake.addDevice(device);
    return fake;
  }

  /** Checks the device as the config loader would, creates its driver and starts it. */
  async startDriver(device: BleDeviceConfig, ctx = new RecordingContext()): Promise<StartedDriver> {
    this.assertOpen('start a driver');
    expect(bleDriver.check?.(device)).toEqual([]);
    const driver = bleDriver.create(device, ctx);
    this.drivers.push(driver);
    await driver.start();
    return { driver, ctx };
  }

  /**
   * Points DBUS_SYSTEM_BUS_ADDRESS somewhere else (an unreachable bus, say) and returns the undo;
   * dispose() puts back the value from before start() whether or not the undo ran.
   */
  pointSystemBusAt(address: string): () => void {
    const previous = process.env[SYSTEM_BUS_ENV];
    setSystemBus(address);
    return () => setSystemBus(previous);
  }

  /** Stops the drivers, newest first, then the fake bluetoothds; the bus stays up for the next test. */
  async stopDriversAndBluez(): Promise<void> {
    const failures: unknown[] = [];
    // Taken out of the lists first, so a second call (dispose after a timed-out afterEach) does not
    // wait on the same stuck stop again.
    for (const driver of this.drivers.splice(0).reverse()) {
      await this.withinDeadline('stopping a BLE driver', driver.stop()).catch((err: unknown) => failures.push(err));
    }
    for (const fake of this.fakes.splice(0).reverse()) {
      await this.withinDeadline('stopping a fake bluetoothd', fake.stop()).catch((err: unknown) => failures.push(err));
    }
    throwIfAny(failures);
  }

  /** Everything, in order; idempotent. Throws after the last step if any step failed. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const failures: unknown[] = [];
    await this.stopDriversAndBluez().catch((err: unknown) => failures.push(err));
    setSystemBus(this.originalSystemBus);
    await this.withinDeadline('stopping the private bus daemon', this.bus.stop()).catch((err: unknown) => failures.push(err));
    throwIfAny(failures);
  }

  private async withinDeadline(what: string, work: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${this.stopDeadlineMs} ms`)), this.stopDeadlineMs);
    });
    try {
      await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private assertOpen(what: string): void {
    // A test body that outlives its timeout keeps running after tear-down; it must not start
    // anything nobody will stop.
    if (this.disposed) throw new Error(`cannot ${what}: the BLE test bed has been disposed`);
  }
}

function setSystemBus(address: string | undefined): void {
  if (address === undefined) delete process.env[SYSTEM_BUS_ENV];
  else process.env[SYSTEM_BUS_ENV] = address;
}

function throwIfAny(failures: unknown[]): void {
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, 'BLE test bed: several tear-down steps failed');
}
