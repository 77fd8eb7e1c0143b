import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { checkDevice, compileDevice, rtuFrameGapMs } from '../../../drivers/modbus/device-config.js';
import { modbusDriver, type ModbusDeviceConfig, type ModbusPointConfig } from '../../../drivers/modbus/index.js';
import { buildWrite } from '../../../drivers/modbus/write-request.js';
import { CommandError } from '../../../src/driver-api/index.js';
import { addUnitKeywords } from '../../../src/config/schema-units.js';

const tcpDevice = (points: ModbusPointConfig[], extra: Partial<ModbusDeviceConfig> = {}): ModbusDeviceConfig =>
  ({ name: 'd', driver: 'modbus', tcp: { host: '10.0.0.5' }, points, ...extra });

const messages = (device: ModbusDeviceConfig) => modbusDriver.check!(device).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('check()', () => {
  it('accepts a well-formed device', () => {
    expect(messages(tcpDevice([
      { name: 'v', table: 'input', address: 0, type: 'float32', order: 'CDAB' },
      { name: 'b', table: 'holding', address: 3, type: 'bool', bit: 4, writable: true },
      { name: 'u', table: 'holding', address: 3, type: 'uint16', bit: 5 },
      { name: 's', table: 'holding', address: 10, type: 'string', length: 8, writable: true },
      { name: 'c', table: 'coil', address: 0, writable: true },
      { name: 'dup', table: 'input', address: 0, type: 'uint16' },
      { name: 'last', table: 'input', address: 65534, type: 'int32' },
    ]))).toEqual([]);
  });

  it.each([
    ['both tcp and rtu', tcpDevice([], { rtu: { port: '/dev/ttyUSB0' } }), ': exactly one of tcp and rtu is required'],
    ['neither tcp nor rtu', { ...tcpDevice([]), tcp: undefined }, ': exactly one of tcp and rtu is required'],
    ['bit on a 32-bit type', tcpDevice([{ name: 'x', table: 'holding', address: 0, type: 'uint32', bit: 1 }]), 'points.0.bit: bit needs a 16-bit register type'],
    ['bit on a coil', tcpDevice([{ name: 'x', table: 'coil', address: 0, bit: 1 }]), 'points.0.bit: bit applies to holding/input registers'],
    ['string without length', tcpDevice([{ name: 'x', table: 'input', address: 0, type: 'string' }]), 'points.0.length: a string point needs length'],
    ['length on a number', tcpDevice([{ name: 'x', table: 'input', address: 0, type: 'uint16', length: 2 }]), 'points.0.length: length applies to string points only'],
    ['bool register without bit', tcpDevice([{ name: 'x', table: 'holding', address: 0, type: 'bool' }]), 'points.0.type: type bool in a register table needs bit'],
    ['number in a coil', tcpDevice([{ name: 'x', table: 'coil', address: 0, type: 'uint16' }]), 'points.0.type: a coil point is a single bit'],
    ['writable input', tcpDevice([{ name: 'x', table: 'input', address: 0, writable: true }]), 'points.0.writable: input points are read-only'],
    ['writable discrete', tcpDevice([{ name: 'x', table: 'discrete', address: 0, writable: true }]), 'points.0.writable: discrete points are read-only'],
    ['past 65535', tcpDevice([{ name: 'x', table: 'input', address: 65535, type: 'float32' }]), 'points.0.address: address 65535 + 2 runs past 65535'],
    ['string longer than a read', tcpDevice([{ name: 'x', table: 'input', address: 0, type: 'string', length: 100 }], { max_registers: 50 }), 'points.0.length: 100 registers exceed max_registers (50)'],
    ['writable string longer than a write', tcpDevice([{ name: 'x', table: 'holding', address: 0, type: 'string', length: 124, writable: true }]), 'points.0.length: a writable point of 124 registers exceeds the 123 one write (FC16) carries'],
    ['order on a coil', tcpDevice([{ name: 'x', table: 'coil', address: 0, order: 'CDAB' }]), 'points.0.order: order has no meaning'],
    ['bad timeout', tcpDevice([], { timeout: 'soon' }), 'timeout: invalid duration'],
    ['frame_gap on tcp', tcpDevice([], { frame_gap: '5ms' }), 'frame_gap: frame_gap applies to serial lines and framing: rtu only'],
    ['rtu broadcast id', { ...tcpDevice([]), tcp: undefined, rtu: { port: '/dev/ttyS0' }, unit_id: 0 }, 'unit_id: a unit id on a serial bus is 1-247'],
    ['rtu-over-tcp broadcast id', tcpDevice([], { tcp: { host: 'h', framing: 'rtu' }, unit_id: 0 }), 'unit_id: a unit id on a serial bus is 1-247'],
  ] as [string, ModbusDeviceConfig, string][])('%s', (_, device, want) => {
    const got = messages(device);
    expect(got.some((m) => m.startsWith(want)), got.join('\n')).toBe(true);
  });

  it('lets a string be as long as one request allows: 125 registers to read, 123 to write', () => {
    expect(messages(tcpDevice([
      { name: 'r', table: 'holding', address: 0, type: 'string', length: 125 },
      { name: 'w', table: 'holding', address: 200, type: 'string', length: 123, writable: true },
    ]))).toEqual([]);
  });

  it('reports every problem at once', () => {
    expect(messages(tcpDevice([
      { name: 'a', table: 'coil', address: 0, bit: 1 },
      { name: 'b', table: 'input', address: 0, type: 'string' },
    ], { timeout: 'x' }))).toHaveLength(3);
  });
});

describe('schema fragments', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addUnitKeywords(ajv);
  const device = ajv.compile({ type: 'object', properties: modbusDriver.deviceSchema.properties });
  const point = ajv.compile({ type: 'object', properties: modbusDriver.pointSchema.properties, required: modbusDriver.pointSchema.required });
  it('accepts the documented keys and rejects typos and out-of-range values', () => {
    expect(device({ tcp: { host: 'h', port: 502 }, unit_id: 1, timeout: '1s', max_gap: 10, max_registers: 125, max_bits: 2000 })).toBe(true);
    expect(device({ rtu: { port: '/dev/ttyUSB0', baud_rate: 9600, parity: 'none', data_bits: 8, stop_bits: 1 }, frame_gap: '4ms' })).toBe(true);
    expect(device({ tcp: { hots: 'h' } })).toBe(false);
    expect(device({ max_registers: 126 })).toBe(false);
    expect(device({ rtu: { port: '/dev/x', parity: 'mark' } })).toBe(false);
    expect(point({ table: 'input', address: 0, type: 'float32', order: 'CDAB' })).toBe(true);
    expect(point({ table: 'input', address: 65536 })).toBe(false);
    expect(point({ table: 'inputs', address: 0 })).toBe(false);
    expect(point({ table: 'holding', address: 0, bit: 16 })).toBe(false);
    expect(point({ address: 0 })).toBe(false);
  });
});

describe('resources()', () => {
  it('claims the serial port with a share token made of the line settings', () => {
    const rtu = (settings: Partial<NonNullable<ModbusDeviceConfig['rtu']>>) =>
      modbusDriver.resources!({ ...tcpDevice([]), tcp: undefined, rtu: { port: '/dev/ttyUSB0', ...settings } });
    expect(rtu({})).toEqual([{ id: 'serial:/dev/ttyUSB0', share: 'modbus-rtu:9600:8N1', describe: 'Modbus RTU 9600 8N1' }]);
    expect(rtu({ baud_rate: 19200, parity: 'even', stop_bits: 2 })[0]!.share).toBe('modbus-rtu:19200:8E2');
    expect(rtu({ baud_rate: 19200 })[0]!.share).not.toBe(rtu({})[0]!.share);
  });
  it('lets TCP devices share a host:port when they frame alike (Modbus TCP, or RTU over TCP), and refuses a mix', () => {
    const tcp = modbusDriver.resources!(tcpDevice([]));
    expect(tcp).toEqual([{ id: 'tcp:10.0.0.5:502', share: 'modbus-tcp', describe: 'Modbus TCP' }]);
    const rtuOverTcp = modbusDriver.resources!(tcpDevice([], { tcp: { host: '10.0.0.5', port: 502, framing: 'rtu' } }));
    expect(rtuOverTcp).toEqual([{ id: 'tcp:10.0.0.5:502', share: 'modbus-rtu-over-tcp', describe: 'Modbus RTU over TCP' }]);
  });
  it('puts ASCII or RTU into the share token of a serial port', () => {
    const ascii = modbusDriver.resources!({ ...tcpDevice([]), tcp: undefined, rtu: { port: '/dev/ttyUSB0', mode: 'ascii', data_bits: 7, parity: 'even' } });
    expect(ascii).toEqual([{ id: 'serial:/dev/ttyUSB0', share: 'modbus-ascii:9600:7E1', describe: 'Modbus ASCII 9600 7E1' }]);
  });
});

describe('compileDevice: framing and mode', () => {
  it('RTU over TCP and ASCII keep no frame gap by default; RTU on a serial port keeps 3.5 characters', () => {
    const overTcp = compileDevice(modbusDriver.withDefaults!(tcpDevice([], { tcp: { host: 'h', framing: 'rtu' } })));
    expect(overTcp).toMatchObject({ frameGapMs: 0, link: { kind: 'tcp', framing: 'rtu', port: 502 } });
    const serial = (mode: 'rtu' | 'ascii') => compileDevice(modbusDriver.withDefaults!({ ...tcpDevice([]), tcp: undefined, rtu: { port: '/dev/ttyS0', mode } }));
    expect(serial('ascii')).toMatchObject({ frameGapMs: 0, link: { kind: 'rtu', mode: 'ascii' } });
    expect(serial('rtu').frameGapMs).toBeCloseTo(3.65, 2);
    expect(compileDevice(tcpDevice([], { tcp: { host: 'h', framing: 'rtu' }, frame_gap: '5ms' })).frameGapMs).toBe(5);
    expect(checkDevice(tcpDevice([], { tcp: { host: 'h', framing: 'rtu' }, frame_gap: '5ms' }))).toEqual([]);
  });
});

describe('compileDevice', () => {
  it('applies defaults', () => {
    const d = compileDevice(tcpDevice([{ name: 'c', table: 'coil', address: 0 }, { name: 'h', table: 'holding', address: 0 }]));
    expect(d).toMatchObject({ unitId: 1, timeoutMs: 1000, frameGapMs: 0, link: { kind: 'tcp', host: '10.0.0.5', port: 502 } });
    expect(d.limits).toEqual({ maxGap: 10, maxRegisters: 125, maxBits: 2000 });
    expect(d.points.map((p) => p.spec.type)).toEqual(['bool', 'uint16']);
  });
  it('derives the RTU frame gap from the line settings', () => {
    expect(rtuFrameGapMs(9600, 8, 'none', 1)).toBeCloseTo(3.646, 3);
    expect(rtuFrameGapMs(9600, 8, 'even', 1)).toBeCloseTo(4.010, 3);
    expect(rtuFrameGapMs(115200, 8, 'none', 1)).toBe(1.75);
    const d = compileDevice({ ...tcpDevice([]), tcp: undefined, rtu: { port: '/dev/x', baud_rate: 19200 }, frame_gap: '10ms' });
    expect(d.frameGapMs).toBe(10);
  });
});

describe('buildWrite', () => {
  const point = (p: Partial<ModbusPointConfig>) =>
    compileDevice(tcpDevice([{ name: 'x', table: 'holding', address: 7, writable: true, ...p }])).points[0]!;
  it('chooses the function code', () => {
    expect(buildWrite(point({ table: 'coil' }), true)).toEqual({ kind: 'coil', fc: 5, address: 7, on: true });
    expect(buildWrite(point({ table: 'coil', write_function: 'multiple' }), 0)).toEqual({ kind: 'coil', fc: 15, address: 7, on: false });
    expect(buildWrite(point({ type: 'int16' }), -2)).toEqual({ kind: 'registers', fc: 6, address: 7, values: [0xfffe] });
    expect(buildWrite(point({ type: 'uint16', write_function: 'multiple' }), 5)).toMatchObject({ fc: 16, values: [5] });
    expect(buildWrite(point({ type: 'float32', order: 'CDAB' }), 1.5)).toEqual({ kind: 'registers', fc: 16, address: 7, values: [0, 0x3fc0] });
    expect(buildWrite(point({ type: 'bool', bit: 3 }), true)).toMatchObject({ kind: 'bit', fc: 6, bit: 3, on: true });
  });
  it.each([
    ['not writable', { writable: false }, 1, 'not_writable'],
    ['input table', { table: 'input' }, 1, 'read_only'],
    ['discrete table', { table: 'discrete' }, true, 'read_only'],
    ['out of range', { type: 'uint16' }, 70000, 'invalid_value'],
    ['fraction', { type: 'int32' }, 1.5, 'invalid_value'],
    ['text for a number', { type: 'float32' }, 'hello', 'invalid_value'],
    ['number for a coil', { table: 'coil' }, 7, 'invalid_value'],
    ['string too long', { type: 'string', length: 2 }, 'hello', 'invalid_value'],
  ] as [string, Partial<ModbusPointConfig>, number | string | boolean, string][])('rejects %s with CommandError', (_, p, value, code) => {
    let caught: unknown;
    try {
      buildWrite(point(p), value);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CommandError);
    expect((caught as CommandError).code).toBe(code);
  });
});
