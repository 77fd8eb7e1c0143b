// Modbus TCP and RTU: schema, checks, resources and the request plan, without the transport
// (modbus-serial, serialport), which index.ts loads with the driver.
import { formatDuration, mergeDefaults, type DriverDescriptor, type ResourceClaim } from '../../src/driver-api/index.js';
import { DEFAULTS, checkDevice, compileDevice, describeLink, frameFormat, lineSettings, rtuLink } from './device-config.js';
import { formatPlan } from './request-plan.js';
import { deviceSchema, pointSchema, type ModbusDeviceConfig } from './schema.js';

export type { ModbusDeviceConfig, ModbusPointConfig } from './schema.js';

export const modbusDescriptor: DriverDescriptor<ModbusDeviceConfig> = {
  type: 'modbus',
  description: 'Modbus TCP, RTU, RTU over TCP and ASCII (holding/input registers, coils, discrete inputs)',
  deviceSchema,
  pointSchema,
  polled: () => true,
  // `unit_id: [1, 3, "5-12"]`: one device per unit on the same link.
  fanOut: { key: 'unit_id', ranges: true },
  // Device-level defaults only: a point's type and order stay as written, since checks tell an
  // order given for a coil from one left out.
  withDefaults(device) {
    const d = DEFAULTS;
    return mergeDefaults<ModbusDeviceConfig>({
      unit_id: d.unitId, timeout: d.timeout, max_gap: d.maxGap, max_registers: d.maxRegisters, max_bits: d.maxBits,
      reconnect: { initial: d.reconnectInitial, max: d.reconnectMax },
      ...(device.tcp ? { tcp: { host: device.tcp.host, port: d.tcpPort, framing: d.framing } } : {}),
      ...(device.rtu
        ? { rtu: { port: device.rtu.port, mode: d.mode, baud_rate: d.baudRate, parity: d.parity, data_bits: d.dataBits, stop_bits: d.stopBits } }
        : {}),
    }, device);
  },
  check: checkDevice,
  valueType(_device, point) {
    if (point.table === 'coil' || point.table === 'discrete' || point.type === 'bool' || point.bit !== undefined) return 'boolean';
    return point.type === 'string' ? 'text' : 'number';
  },
  resources(device): ResourceClaim[] {
    const link = rtuLink(device);
    if (!link) {
      // Any number of devices may share a host:port (a TCP gateway serves many unit ids; a device
      // server is one bus), but only if they all frame alike: one device speaking Modbus TCP to a
      // device server in RTU mode (or the reverse) is a conflict.
      const id = `tcp:${device.tcp?.host ?? ''}:${device.tcp?.port ?? DEFAULTS.tcpPort}`;
      return device.tcp?.framing === 'rtu'
        ? [{ id, share: 'modbus-rtu-over-tcp', describe: 'Modbus RTU over TCP' }]
        : [{ id, share: 'modbus-tcp', describe: 'Modbus TCP' }];
    }
    // Devices on one port must agree on the line settings (and ASCII or RTU): they are in the share token.
    return [{
      id: `serial:${link.port}`,
      share: `modbus-${link.mode}:${link.baudRate}:${frameFormat(link)}`,
      describe: `Modbus ${link.mode.toUpperCase()} ${lineSettings(link)}`,
    }];
  },
  plan(device) {
    const compiled = compileDevice(device);
    // `fieldgate plan` prints the device name above this.
    const header = `modbus ${describeLink(compiled.link, compiled.unitId)}, timeout ${formatDuration(compiled.timeoutMs)}`;
    return formatPlan(header, compiled.plan, compiled.limits, compiled.points.length);
  },
};
