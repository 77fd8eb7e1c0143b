// Site-file shape of a Modbus device and its points, and the JSON Schema fragments the core merges
// into the site schema. Only the driver's own keys live here; name, interval, topic, scale, … are
// the core's.
import { durationSchema, type DeviceConfigBase, type JsonSchemaFragment, type PointConfigBase } from '../../src/driver-api/index.js';

export const TABLES = ['holding', 'input', 'coil', 'discrete'] as const;
export type Table = (typeof TABLES)[number];

export const DATA_TYPES = [
  'bool', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string',
] as const;
export type DataType = (typeof DATA_TYPES)[number];

export const ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type ByteOrder = (typeof ORDERS)[number];

export const PARITIES = ['none', 'even', 'odd'] as const;
export type Parity = (typeof PARITIES)[number];

/** auto: FC 5/6 for one coil/register, FC 16 beyond; multiple: always FC 15/16. */
export type WriteFunction = 'auto' | 'multiple';

export interface ModbusPointConfig extends PointConfigBase {
  table: Table;
  address: number;
  type?: DataType;
  order?: ByteOrder;
  bit?: number;
  length?: number;
  write_function?: WriteFunction;
  scale_register?: ScaleRegister;
}

/** SunSpec-style scale factor: the value is multiplied by 10^sf, sf an int16 read in the same poll. */
export interface ScaleRegister {
  table: 'holding' | 'input';
  address: number;
}

/** tcp: Modbus TCP (MBAP header); rtu: RTU frames over TCP (a serial device server in transparent mode). */
export type TcpFraming = 'tcp' | 'rtu';
/** rtu: binary frames with CRC; ascii: Modbus ASCII (`:` … LRC CR LF). */
export type SerialMode = 'rtu' | 'ascii';

export interface TcpConfig {
  host: string;
  port?: number;
  framing?: TcpFraming;
}

export interface RtuConfig {
  port: string;
  mode?: SerialMode;
  baud_rate?: number;
  parity?: Parity;
  data_bits?: 7 | 8;
  stop_bits?: 1 | 2;
}

export interface ReconnectConfig {
  initial?: string;
  max?: string;
}

export interface ModbusDeviceConfig extends DeviceConfigBase {
  tcp?: TcpConfig;
  rtu?: RtuConfig;
  unit_id?: number;
  timeout?: string;
  max_gap?: number;
  max_registers?: number;
  max_bits?: number;
  frame_gap?: string;
  reconnect?: ReconnectConfig;
  points: ModbusPointConfig[];
}

/** Ranges of the driver's durations (README lists them). */
export const MODBUS_RANGES = {
  timeout: { min: '1ms', max: '5m' },
  frame_gap: { min: '0ms', max: '1s' },
  reconnect: { min: '1ms', max: '1d' },
} as const;

export const deviceSchema: JsonSchemaFragment = {
  properties: {
    tcp: {
      type: 'object',
      description: 'Modbus TCP: host and port (default 502). Exactly one of tcp and rtu.',
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        framing: {
          enum: ['tcp', 'rtu'],
          description: 'tcp (default): Modbus TCP. rtu: RTU frames over TCP, for serial device servers (RS-485 to Ethernet in transparent mode); devices on one host:port share it as a bus.',
        },
      },
      required: ['host'],
      additionalProperties: false,
    },
    rtu: {
      type: 'object',
      description: 'Modbus RTU on a serial line; devices with the same port share one bus.',
      properties: {
        port: { type: 'string', minLength: 1, description: 'e.g. /dev/ttyUSB0' },
        mode: { enum: ['rtu', 'ascii'], description: 'rtu (default) or ascii (Modbus ASCII slaves; usually 7 data bits, even parity).' },
        baud_rate: { type: 'integer', minimum: 300, maximum: 4_000_000 },
        parity: { enum: [...PARITIES] },
        data_bits: { enum: [7, 8] },
        stop_bits: { enum: [1, 2] },
      },
      required: ['port'],
      additionalProperties: false,
    },
    unit_id: { type: 'integer', minimum: 0, maximum: 255, description: 'Unit (slave) id, default 1.' },
    timeout: durationSchema('Response timeout per request, default 1s;', MODBUS_RANGES.timeout),
    max_gap: {
      type: 'integer', minimum: 0, maximum: 2000,
      description: 'Unused registers one read may span to save a request (0 = contiguous only; coils/discrete inputs: × 16 bits). Default 10.',
    },
    max_registers: { type: 'integer', minimum: 1, maximum: 125, description: 'Registers per read, default 125.' },
    max_bits: { type: 'integer', minimum: 1, maximum: 2000, description: 'Coils/inputs per read, default 2000.' },
    frame_gap: durationSchema('Serial lines and RTU over TCP: silence before each frame; default 3.5 character times for RTU (1.75ms above 19200 baud), 0 for ASCII and RTU over TCP;', MODBUS_RANGES.frame_gap),
    reconnect: {
      type: 'object',
      description: 'Reconnect backoff: first delay and cap (defaults 500ms and 10s).',
      properties: { initial: durationSchema('First delay,', MODBUS_RANGES.reconnect), max: durationSchema('Cap,', MODBUS_RANGES.reconnect) },
      additionalProperties: false,
    },
  },
};

export const pointSchema: JsonSchemaFragment = {
  properties: {
    table: { enum: [...TABLES], description: 'holding | input | coil | discrete' },
    address: { type: 'integer', minimum: 0, maximum: 65535, description: '0-based protocol address.' },
    type: { enum: [...DATA_TYPES], description: 'Default uint16 for registers, bool for coils/discrete inputs.' },
    order: { enum: [...ORDERS], description: 'Word/byte order of multi-byte values, default ABCD (big-endian).' },
    bit: { type: 'integer', minimum: 0, maximum: 15, description: 'One bit (0 = least significant) of a 16-bit register, published as bool.' },
    length: { type: 'integer', minimum: 1, maximum: 125, description: 'string: number of registers (2 characters each).' },
    write_function: { enum: ['auto', 'multiple'], description: 'multiple: write with FC 15/16 even for one coil/register.' },
    scale_register: {
      type: 'object',
      description: 'SunSpec-style scale factor: value × 10^sf, sf the int16 in this register, read in the same poll.',
      properties: {
        table: { enum: ['holding', 'input'], description: 'Table of the scale factor register.' },
        address: { type: 'integer', minimum: 0, maximum: 65535, description: '0-based address of the scale factor register.' },
      },
      required: ['table', 'address'],
      additionalProperties: false,
    },
  },
  required: ['table', 'address'],
};
