// The gateway's running devices: a DeviceHost per device of the site file, each driver loaded once
// (on first use, so a site without BLE never loads the D-Bus stack), and the resources devices
// share (a serial line, a Bluetooth adapter). The gateway decides which devices run; this keeps
// them.
import type { Logger } from 'pino';
import { loadDriver, type Clock, type DriverEntry, type DriverFactory } from '../driver-api/index.js';
import type { ResolvedDevice } from '../config/resolved-site.js';
import type { MappingDefaults } from '../mapping/reading-mapper.js';
import { SharedResourcePool } from '../util/shared-resources.js';
import { DeviceHost, type DeviceHostOptions } from './device-host.js';

export interface DeviceFleetOptions {
  drivers: readonly DriverEntry[];
  logger: Logger;
  clock: Clock;
  /** What every host is given besides its device: where entries go and the hooks it reports to. */
  host: (device: ResolvedDevice) => Pick<DeviceHostOptions, 'sink' | 'onReadings' | 'onError' | 'onTick' | 'onHealth'>;
}

export class DeviceFleet {
  private readonly hosts = new Map<string, DeviceHost>();
  private readonly resources = new SharedResourcePool();
  private readonly loaded = new Map<string, Promise<DriverFactory>>();

  constructor(private readonly options: DeviceFleetOptions) {}

  get size(): number {
    return this.hosts.size;
  }

  names(): string[] {
    return [...this.hosts.keys()];
  }

  get(name: string): DeviceHost | undefined {
    return this.hosts.get(name);
  }

  all(): DeviceHost[] {
    return [...this.hosts.values()];
  }

  /**
   * Creates and starts a host for each device, all at once (one slow BLE connect must not delay a
   * Modbus meter). A device whose driver is unknown is logged and left out. Returns the started hosts.
   */
  async start(devices: readonly ResolvedDevice[], defaults: MappingDefaults): Promise<DeviceHost[]> {
    const { logger, clock } = this.options;
    const started: DeviceHost[] = [];
    for (const device of devices) {
      const entry = this.options.drivers.find((d) => d.type === device.driver);
      if (!entry) {
        logger.error({ device: device.name, driver: device.driver }, 'unknown driver; device not started');
        continue;
      }
      const factory = await this.factory(entry);
      const host = new DeviceHost({ ...this.options.host(device), device, factory, defaults, logger, clock, resources: this.resources });
      this.hosts.set(device.name, host);
      started.push(host);
    }
    await Promise.all(started.map((h) => h.start()));
    return started;
  }

  /** Stops the named devices (unknown names are skipped), all at once. */
  async stop(names: readonly string[]): Promise<void> {
    const hosts = names.map((n) => this.hosts.get(n)).filter((h): h is DeviceHost => h !== undefined);
    for (const n of names) this.hosts.delete(n);
    await Promise.all(hosts.map((h) => h.stop()));
  }

  private factory(entry: DriverEntry): Promise<DriverFactory> {
    let loaded = this.loaded.get(entry.type);
    if (!loaded) {
      loaded = loadDriver(entry);
      this.loaded.set(entry.type, loaded);
    }
    return loaded;
  }
}
