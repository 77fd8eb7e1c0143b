// The explicit list of drivers. Adding a driver = one folder in drivers/ plus one line here.
import type { DriverFactory, DeviceConfigBase } from '../src/driver-api/index.js';
import { simDriver } from './sim/index.js';
import { modbusDriver } from './modbus/index.js';
import { serialDriver } from './serial/index.js';
import { bleDriver } from './ble/index.js';

export const drivers: readonly DriverFactory<DeviceConfigBase>[] = [
  simDriver as DriverFactory<DeviceConfigBase>,
  modbusDriver as DriverFactory<DeviceConfigBase>,
  serialDriver as DriverFactory<DeviceConfigBase>,
  bleDriver as DriverFactory<DeviceConfigBase>,
];
