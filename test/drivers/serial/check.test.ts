import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { serialDriver, type SerialDeviceConfig } from '../../../drivers/serial/index.js';
import { addUnitKeywords } from '../../../src/config/schema-units.js';

function device(extra: Partial<SerialDeviceConfig> = {}): SerialDeviceConfig {
  return {
    name: 'weather',
    driver: 'serial',
    port: '/dev/ttyUSB1',
    format: 'regex',
    pattern: '^T=(?<temp>-?[\\d.]+),H=(?<hum>[\\d.]+)$',
    points: [
      { name: 'temperature', field: 'temp' },
      { name: 'humidity', field: 'hum' },
    ],
    ...extra,
  };
}

// As the core does: the driver's defaults first, then its check.
const messages = (d: SerialDeviceConfig): string[] => serialDriver.check!(serialDriver.withDefaults!(d)).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('serialDriver.check', () => {
  it('accepts the example from the issue', () => {
    expect(messages(device({ request: 'R\r\n', interval: '5s', timeout: '1s', delimiter: '\r\n' }))).toEqual([]);
  });

  it.each<[string, Partial<SerialDeviceConfig>, RegExp]>([
    ['regex without pattern', { pattern: undefined }, /^pattern: format regex needs a pattern/],
    ['pattern that does not compile', { pattern: '^(?<temp>[' }, /^pattern: invalid regular expression/],
    ['Python named groups', { pattern: '^T=(?P<temp>\\d+)$' }, /named groups are written \(\?<name>/],
    ['point field not a group', { pattern: '^T=(?<t>\\d+),H=(?<hum>\\d+)$' }, /^points\.0\.field: the pattern has no group named "temp" \(named groups: t, hum\)/],
    ['group number too high', { pattern: '^(\\d+)$', points: [{ name: 'a', field: 2 }] }, /^points\.0\.field: the pattern has only 1 groups, not 2/],
    ['field defaults to the point name', { points: [{ name: 'pressure' }] }, /no group named "pressure"/],
    ['csv with a named field', { format: 'csv', pattern: undefined, points: [{ name: 'a', field: 'temp' }] }, /^points\.0\.field: format csv needs field: a 0-based column number/],
    ['csv without field', { format: 'csv', pattern: undefined, points: [{ name: 'a' }] }, /format csv needs field/],
    ['csv field beyond columns', { format: 'csv', pattern: undefined, columns: 2, points: [{ name: 'a', field: 2 }] }, /column 2 is beyond columns: 2/],
    ['pattern with csv', { format: 'csv', points: [{ name: 'a', field: 0 }] }, /^pattern: pattern applies to format regex, not csv/],
    ['separator with regex', { separator: ';' }, /^separator: separator applies to formats csv and kv/],
    ['columns with kv', { format: 'kv', pattern: undefined, columns: 3, points: [{ name: 'T' }] }, /^columns: columns applies to format csv/],
    ['kv separator with =', { format: 'kv', pattern: undefined, separator: '=', points: [{ name: 'T' }] }, /cannot contain "="/],
    ['bad JSON path', { format: 'json', pattern: undefined, points: [{ name: 'a', field: 'x..y' }] }, /^points\.0\.field: invalid JSON path/],
    ['writable without command', { points: [{ name: 'temperature', field: 'temp', writable: true }] }, /^points\.0\.command: a writable point needs a command/],
    ['command without {value}', { points: [{ name: 'temperature', field: 'temp', writable: true, command: 'SET\r\n' }] }, /^points\.0\.command: command must contain \{value\}/],
    ['command on a read-only point', { points: [{ name: 'temperature', field: 'temp', command: 'SET {value}\r\n' }] }, /not writable: true/],
    ['max_length without a command', { points: [{ name: 'temperature', field: 'temp', max_length: 8 }] }, /^points\.0\.max_length: max_length applies only to a writable point with a command/],
    ['timeout without request', { timeout: '1s' }, /^timeout: timeout applies only with request/],
    ['reply_lines without request', { reply_lines: 2 }, /^reply_lines: reply_lines applies only with request/],
    ['timeout not shorter than interval', { request: 'R\r\n', interval: '1s', timeout: '1s' }, /^timeout: timeout \(1s\) must be shorter than interval \(1s\)/],
    ['default timeout vs a short interval', { request: 'R\r\n', interval: '500ms' }, /must be shorter than interval \(500ms\)/],
    ['zero timeout', { request: 'R\r\n', timeout: '0s' }, /timeout must be greater than 0/],
    ['first_line with request', { request: 'R\n', first_line: 'parse' }, /^first_line: first_line applies only in listen mode/],
    ['empty request after escapes', { request: '' }, /the request is empty/],
    ['reconnect initial above max', { reconnect: { initial: '5s', max: '1s' } }, /^reconnect\.max: reconnect\.max must not be shorter/],
    ['reconnect initial of zero', { reconnect: { initial: '0ms' } }, /^reconnect\.initial: reconnect\.initial must be greater than 0/],
    ['ignore_lines that does not compile', { ignore_lines: '(' }, /^ignore_lines: invalid regular expression/],
  ])('%s', (_name, extra, expected) => {
    const found = messages(device(extra));
    expect(found.some((m) => expected.test(m)), found.join('\n')).toBe(true);
  });

  it('reports every issue at once', () => {
    const found = messages(device({ pattern: undefined, timeout: '2s', points: [{ name: 'x', writable: true }] }));
    expect(found.length).toBeGreaterThanOrEqual(3);
  });

  it('accepts every format in its simplest form', () => {
    expect(messages(device({ format: 'csv', pattern: undefined, columns: 3, points: [{ name: 'a', field: 0 }, { name: 'b', field: 2, type: 'int' }] }))).toEqual([]);
    expect(messages(device({ format: 'kv', pattern: undefined, separator: ' ', points: [{ name: 'T' }] }))).toEqual([]);
    expect(messages(device({ format: 'json', pattern: undefined, points: [{ name: 'a', field: 'env.t' }, { name: 'b', field: 'v[1]' }] }))).toEqual([]);
    expect(messages(device({ points: [{ name: 'temperature', field: 'temp', writable: true, command: 'SET T {value}\\r\\n' }] }))).toEqual([]);
  });
});

describe('serialDriver factory', () => {
  it('is polled only with a request', () => {
    expect(serialDriver.polled(device())).toBe(false);
    expect(serialDriver.polled(device({ request: 'R\r\n' }))).toBe(true);
  });

  it('claims its port without a share token', () => {
    expect(serialDriver.resources!(device())).toEqual([{ id: 'serial:/dev/ttyUSB1', describe: 'serial-line device' }]);
  });

  it('describes its plan', () => {
    const plan = serialDriver.plan!(device({ request: 'R\r\n', interval: '5s', delimiter: '\r\n', baud_rate: 19200, parity: 'even', points: [{ name: 'temperature', field: 'temp', writable: true, command: 'SET T {value}\r\n' }] }));
    expect(plan).toContain('/dev/ttyUSB1 19200 8E1');
    expect(plan).toContain('writes "R\\r\\n" every 5s');
    expect(plan).toContain('temperature ← field temp as float, command "SET T {value}\\r\\n" (value ≤ 64 bytes)');
    const json = serialDriver.plan!(device({ points: [{ name: 'temperature', field: 'temp', writable: true, command: '{"t":{value}}\n', max_length: 10 }] }));
    expect(json).toContain('command "{\"t\":{value}}\\n" (value ≤ 10 bytes, as JSON)');
  });

  it('has schema fragments that compile and validate the example', () => {
    const ajv = new Ajv({ allErrors: true, strict: true });
    addUnitKeywords(ajv);
    const point = { type: 'object', properties: { name: { type: 'string' }, ...serialDriver.pointSchema.properties } };
    const validate = ajv.compile({
      type: 'object',
      properties: { ...serialDriver.deviceSchema.properties, points: { type: 'array', items: point } },
      required: serialDriver.deviceSchema.required,
    });
    expect(validate({ port: '/dev/ttyUSB1', format: 'csv', baud_rate: 9600, parity: 'none', stop_bits: 1, timeout: '1s', points: [{ name: 'a', field: 0, type: 'float' }] })).toBe(true);
    expect(validate({ port: '/dev/ttyUSB1', format: 'xml', parity: 'mark', stop_bits: 3, points: [{ name: 'a', field: -1, type: 'double' }] })).toBe(false);
    expect(validate.errors!.length).toBeGreaterThanOrEqual(4);
  });
});
