// JSON Schema fragments for the serial driver's keys; the core merges them into the site schema.
import { durationSchema, type JsonSchemaFragment } from '../../src/driver-api/index.js';

/** Ranges of the driver's durations (README lists them). */
export const SERIAL_RANGES = {
  timeout: { min: '1ms', max: '5m' },
  reconnect: { min: '1ms', max: '1d' },
} as const;

export const serialDeviceSchema: JsonSchemaFragment = {
  properties: {
    port: { type: 'string', minLength: 1, description: 'Serial device, e.g. /dev/ttyUSB0 or (better) /dev/serial/by-id/….' },
    baud_rate: { type: 'integer', minimum: 50, maximum: 4_000_000, description: 'Line speed. Default 9600.' },
    data_bits: { enum: [5, 6, 7, 8], description: 'Default 8.' },
    parity: { enum: ['none', 'even', 'odd'], description: 'Default none.' },
    stop_bits: { enum: [1, 2], description: 'Default 1.' },
    delimiter: { type: 'string', minLength: 1, description: 'Line end, e.g. "\\r\\n". Default "\\n".' },
    request: {
      type: 'string',
      minLength: 1,
      description: 'Written every interval; the reply line(s) are parsed (request/response mode). Without it, lines are parsed as they arrive.',
    },
    timeout: durationSchema('Reply deadline in request/response mode. Default 1s;', SERIAL_RANGES.timeout),
    reply_lines: { type: 'integer', minimum: 1, maximum: 100, description: 'Lines in one reply (request/response mode). Default 1.' },
    format: { enum: ['regex', 'csv', 'kv', 'json'], description: 'How a line is split into fields.' },
    pattern: { type: 'string', minLength: 1, description: 'regex: JavaScript regular expression; named groups are fields.' },
    separator: { type: 'string', minLength: 1, description: 'csv: column separator; kv: pair separator. Default ",".' },
    columns: { type: 'integer', minimum: 1, description: 'csv: exact number of columns a good line has.' },
    ignore_lines: { type: 'string', minLength: 1, description: 'Regular expression; matching lines are dropped without counting an error.' },
    first_line: {
      enum: ['skip', 'parse'],
      description: 'Listen mode: skip (default) or parse the bytes before the first delimiter after the port opens.',
    },
    max_line: { type: 'integer', minimum: 1, maximum: 1_048_576, description: 'Bytes without a delimiter before the line is cut. Default 4096.' },
    reconnect: {
      type: 'object',
      description: 'Reopen backoff while the port is missing: first delay and cap (defaults 500ms and 10s).',
      properties: {
        initial: durationSchema('First delay,', SERIAL_RANGES.reconnect),
        max: durationSchema('Cap,', SERIAL_RANGES.reconnect),
      },
      additionalProperties: false,
    },
  },
  required: ['port', 'format'],
};

export const serialPointSchema: JsonSchemaFragment = {
  properties: {
    field: {
      anyOf: [{ type: 'string', minLength: 1 }, { type: 'integer', minimum: 0 }],
      description: 'regex: group name; csv: 0-based column; kv: key; json: dotted path. Default: the point name (not for csv).',
    },
    type: { enum: ['float', 'int', 'bool', 'string'], description: 'Value type. Default float.' },
    command: { type: 'string', minLength: 1, description: 'Written to the port by a command; {value} is replaced by the value.' },
    max_length: {
      type: 'integer',
      minimum: 1,
      maximum: 4096,
      description: 'Most bytes a command value may take in the rendered command; longer values are refused. Default 64.',
    },
  },
};
