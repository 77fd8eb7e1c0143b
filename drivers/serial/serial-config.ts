// The serial driver's keys in the site file and the settings compiled from them once, at create
// time. Defaults live here and nowhere else.
import { parseDuration, type DeviceConfigBase, type PointConfigBase } from '../../src/driver-api/index.js';
import { decodeEscapes } from './escapes.js';
import type { FieldType } from './field-type.js';

export type LineFormat = 'regex' | 'csv' | 'kv' | 'json';
export type Parity = 'none' | 'even' | 'odd';
/** What to do with the bytes before the first delimiter after the port opens (listen mode). */
export type FirstLine = 'skip' | 'parse';

export interface SerialPointConfig extends PointConfigBase {
  /** Named regex group (or group number) | 0-based csv column | kv key | dotted JSON path. */
  field?: string | number;
  type?: FieldType;
  /** Written to the port by a command; `{value}` is replaced by the value. */
  command?: string;
  /** Most bytes a command's value may take in the rendered command. */
  max_length?: number;
}

export interface SerialDeviceConfig extends DeviceConfigBase {
  port: string;
  baud_rate?: number;
  data_bits?: 5 | 6 | 7 | 8;
  parity?: Parity;
  stop_bits?: 1 | 2;
  delimiter?: string;
  request?: string;
  timeout?: string;
  reply_lines?: number;
  format: LineFormat;
  pattern?: string;
  separator?: string;
  columns?: number;
  ignore_lines?: string;
  first_line?: FirstLine;
  max_line?: number;
  reconnect?: { initial?: string; max?: string };
  points: SerialPointConfig[];
}

export const SERIAL_DEFAULTS = {
  baud_rate: 9600,
  data_bits: 8,
  parity: 'none',
  stop_bits: 1,
  delimiter: '\n',
  timeout: '1s',
  reply_lines: 1,
  separator: ',',
  first_line: 'skip',
  max_line: 4096,
  max_length: 64,
  type: 'float',
  reconnect_initial: '500ms',
  reconnect_max: '10s',
} as const;

export type SerialMode = 'listen' | 'request';

export interface SerialSettings {
  path: string;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: Parity;
  stopBits: 1 | 2;
  delimiter: Buffer;
  mode: SerialMode;
  request?: Buffer;
  timeoutMs: number;
  replyLines: number;
  maxLine: number;
  firstLine: FirstLine;
  ignore?: RegExp;
  reconnect: { initialMs: number; maxMs: number };
}

/** Assumes the device passed the schema and check(); throws only on what those would have caught. */
export function resolveSettings(device: SerialDeviceConfig): SerialSettings {
  const request = device.request === undefined ? undefined : Buffer.from(decodeEscapes(device.request), 'utf8');
  return {
    path: device.port,
    baudRate: device.baud_rate ?? SERIAL_DEFAULTS.baud_rate,
    dataBits: device.data_bits ?? SERIAL_DEFAULTS.data_bits,
    parity: device.parity ?? SERIAL_DEFAULTS.parity,
    stopBits: device.stop_bits ?? SERIAL_DEFAULTS.stop_bits,
    delimiter: Buffer.from(decodeEscapes(device.delimiter ?? SERIAL_DEFAULTS.delimiter), 'utf8'),
    mode: request ? 'request' : 'listen',
    request,
    timeoutMs: parseDuration(device.timeout ?? SERIAL_DEFAULTS.timeout),
    replyLines: device.reply_lines ?? SERIAL_DEFAULTS.reply_lines,
    maxLine: device.max_line ?? SERIAL_DEFAULTS.max_line,
    firstLine: device.first_line ?? SERIAL_DEFAULTS.first_line,
    ignore: device.ignore_lines === undefined ? undefined : new RegExp(device.ignore_lines),
    reconnect: {
      initialMs: parseDuration(device.reconnect?.initial ?? SERIAL_DEFAULTS.reconnect_initial),
      maxMs: parseDuration(device.reconnect?.max ?? SERIAL_DEFAULTS.reconnect_max),
    },
  };
}

/** "9600 8N1" */
export function frameText(s: Pick<SerialSettings, 'baudRate' | 'dataBits' | 'parity' | 'stopBits'>): string {
  return `${s.baudRate} ${s.dataBits}${s.parity[0]!.toUpperCase()}${s.stopBits}`;
}
