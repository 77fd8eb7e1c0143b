// The explicit list of drivers. Adding a driver = one folder in drivers/ plus one entry here.
// An entry is the driver's descriptor (schema, checks, resources: all that validating a site file
// needs) and a load() importing the implementation, which the gateway calls only for drivers the
// site file uses: serialport, the D-Bus/BLE stack and modbus-serial stay out of memory otherwise.
import type { DriverRegistration, DriverFactory, DeviceConfigBase } from '../src/driver-api/index.js';
import { simDescriptor } from './sim/descriptor.js';
import { modbusDescriptor } from './modbus/descriptor.js';
import { serialDescriptor } from './serial/descriptor.js';
import { bleDescriptor } from './ble/descriptor.js';

// Each driver is typed by its own device config; the core handles them all as the base type.
const generic = <D extends DeviceConfigBase>(factory: DriverFactory<D>): DriverFactory => factory as unknown as DriverFactory;

export const drivers: readonly DriverRegistration<DeviceConfigBase>[] = [
  { ...(simDescriptor as DriverRegistration), load: async () => generic((await import('./sim/index.js')).simDriver) },
  { ...(modbusDescriptor as DriverRegistration), load: async () => generic((await import('./modbus/index.js')).modbusDriver) },
  { ...(serialDescriptor as DriverRegistration), load: async () => generic((await import('./serial/index.js')).serialDriver) },
  { ...(bleDescriptor as DriverRegistration), load: async () => generic((await import('./ble/index.js')).bleDriver) },
];
