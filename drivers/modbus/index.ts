// Modbus TCP and RTU: the factory the core knows the driver by. See README.md in this folder.
import type { DriverFactory } from '../../src/driver-api/index.js';
import { modbusDescriptor, type ModbusDeviceConfig } from './descriptor.js';
import { ModbusDriver } from './modbus-driver.js';
import { compileDevice } from './device-config.js';

export type { ModbusDeviceConfig, ModbusPointConfig } from './schema.js';

export const modbusDriver: DriverFactory<ModbusDeviceConfig> = {
  ...modbusDescriptor,
  create: (device, ctx) => new ModbusDriver(compileDevice(device), ctx),
};
