// The serial-line driver's descriptor: schema, checks, the port it claims and its plan, without
// the serial port library.
import { mergeDefaults, type DriverDescriptor } from '../../src/driver-api/index.js';
import { checkSerialDevice } from './check.js';
import { decodeEscapes, showEscapes } from './escapes.js';
import { pointSpecs } from './line-parser.js';
import { serialDeviceSchema, serialPointSchema } from './schema.js';
import { SERIAL_DEFAULTS, frameText, resolveSettings, type SerialDeviceConfig, type SerialPointConfig } from './serial-config.js';
import { compileCommandTemplate } from './command-template.js';

export type { SerialDeviceConfig, SerialPointConfig, LineFormat, Parity, FirstLine } from './serial-config.js';

export const serialDescriptor: DriverDescriptor<SerialDeviceConfig> = {
  type: 'serial',
  description: 'serial-line ASCII device (regex, csv, key=value or JSON lines; listen or request/response)',
  deviceSchema: serialDeviceSchema,
  pointSchema: serialPointSchema,
  polled: (device) => device.request !== undefined,
  check: checkSerialDevice,
  // No share token: a serial-line device owns its port outright, so a second device of any kind on
  // the same port (another serial device, a Modbus RTU bus) is a configuration error.
  resources: (device) => [{ id: `serial:${device.port}`, describe: 'serial-line device' }],
  // Mode-dependent: a timeout and reply_lines exist only in request mode, first_line only in
  // listen mode, so "this key does not apply" checks still see what the user wrote.
  withDefaults(device) {
    const d = SERIAL_DEFAULTS;
    const request = device.request !== undefined;
    return mergeDefaults<SerialDeviceConfig>({
      baud_rate: d.baud_rate, data_bits: d.data_bits, parity: d.parity, stop_bits: d.stop_bits,
      delimiter: d.delimiter, max_line: d.max_line,
      reconnect: { initial: d.reconnect_initial, max: d.reconnect_max },
      ...(request ? { timeout: d.timeout, reply_lines: d.reply_lines } : { first_line: d.first_line }),
    }, device);
  },
  plan(device) {
    const s = resolveSettings(device);
    const mode =
      s.mode === 'request'
        ? `request/response: writes "${showEscapes(s.request!.toString('utf8'))}" every ${device.interval ?? '(default interval)'}, ` +
          `waits ${s.timeoutMs}ms for ${s.replyLines} line(s)`
        : `listen: parses lines as they arrive (first partial line: ${s.firstLine})`;
    const lines = [
      `${device.name}: serial ${s.path} ${frameText(s)}, lines end with "${showEscapes(s.delimiter.toString('utf8'))}", max ${s.maxLine} bytes`,
      `  ${mode}`,
      `  format ${device.format}${device.pattern ? ` ${device.pattern}` : ''}${device.ignore_lines ? `, ignoring lines matching ${device.ignore_lines}` : ''}`,
    ];
    const specs = pointSpecs(device);
    device.points.forEach((p, i) => {
      const spec = specs[i]!;
      const cmd = p.command ? `, command "${showEscapes(decodeEscapes(p.command))}"${commandNote(p)}` : '';
      lines.push(`  ${p.name} ← field ${spec.field} as ${spec.type}${cmd}`);
    });
    return lines.join('\n');
  },
};

/** How a command value is checked and inserted, for commissioning: " (value ≤ 64 bytes, JSON-escaped)". */
function commandNote(point: SerialPointConfig): string {
  const contexts = compileCommandTemplate(decodeEscapes(point.command!)).contexts;
  const json = contexts.some((c) => c !== 'line') ? ', as JSON' : '';
  return ` (value ≤ ${point.max_length ?? SERIAL_DEFAULTS.max_length} bytes${json})`;
}
