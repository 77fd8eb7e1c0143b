// Semantic checks of a serial device after the schema passed. No I/O; every issue at once.
import { parseDuration, type ConfigIssue } from '../../src/driver-api/index.js';
import { decodeEscapes } from './escapes.js';
import { parsePath } from './line-parser.js';
import { VALUE_PLACEHOLDER } from './command-template.js';
import type { SerialDeviceConfig, SerialPointConfig } from './serial-config.js';

export function checkSerialDevice(device: SerialDeviceConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: ConfigIssue['path'], message: string): void => void issues.push({ path, message });

  if (device.delimiter !== undefined && decodeEscapes(device.delimiter) === '') add(['delimiter'], 'the delimiter is empty');
  checkFormatKeys(device, add);
  checkRequestKeys(device, add);
  if (device.ignore_lines !== undefined) {
    const err = compileError(device.ignore_lines);
    if (err) add(['ignore_lines'], `invalid regular expression: ${err}`);
  }
  device.points.forEach((point, i) => checkCommand(point, i, add));
  const initial = device.reconnect?.initial === undefined ? undefined : durationOrUndefined(device.reconnect.initial);
  const max = device.reconnect?.max === undefined ? undefined : durationOrUndefined(device.reconnect.max);
  if (initial === 0) add(['reconnect', 'initial'], 'reconnect.initial must be greater than 0');
  if (initial !== undefined && max !== undefined && initial > max) {
    add(['reconnect', 'max'], 'reconnect.max must not be shorter than reconnect.initial');
  }
  return issues;
}

type Add = (path: ConfigIssue['path'], message: string) => void;

function checkFormatKeys(device: SerialDeviceConfig, add: Add): void {
  const { format } = device;
  if (format !== 'regex' && device.pattern !== undefined) add(['pattern'], `pattern applies to format regex, not ${format}`);
  if (format !== 'csv' && format !== 'kv' && device.separator !== undefined) {
    add(['separator'], `separator applies to formats csv and kv, not ${format}`);
  }
  if (format !== 'csv' && device.columns !== undefined) add(['columns'], `columns applies to format csv, not ${format}`);

  switch (format) {
    case 'regex':
      return checkRegex(device, add);
    case 'csv':
      device.points.forEach((p, i) => {
        if (typeof p.field !== 'number' || !Number.isInteger(p.field) || p.field < 0) {
          add(['points', i, 'field'], 'format csv needs field: a 0-based column number');
        } else if (device.columns !== undefined && p.field >= device.columns) {
          add(['points', i, 'field'], `column ${p.field} is beyond columns: ${device.columns} (columns count from 0)`);
        }
      });
      return;
    case 'kv':
      if (device.separator !== undefined && device.separator.includes('=')) add(['separator'], 'the kv separator cannot contain "="');
      return;
    case 'json':
      device.points.forEach((p, i) => {
        if (!parsePath(String(p.field ?? p.name))) add(['points', i, 'field'], `invalid JSON path ${JSON.stringify(p.field)} (use a.b[0].c)`);
      });
      return;
  }
}

function checkRegex(device: SerialDeviceConfig, add: Add): void {
  if (device.pattern === undefined) {
    add(['pattern'], 'format regex needs a pattern');
    return;
  }
  const err = compileError(device.pattern);
  if (err) {
    const hint = device.pattern.includes('(?P<') ? ' (named groups are written (?<name>…) in JavaScript)' : '';
    add(['pattern'], `invalid regular expression: ${err}${hint}`);
    return;
  }
  // The empty alternative always matches, which reveals every group the pattern defines.
  const probe = new RegExp(`(?:${device.pattern})|`).exec('')!;
  const groupCount = probe.length - 1;
  const names = Object.keys(probe.groups ?? {});
  device.points.forEach((p, i) => {
    const field = String(p.field ?? p.name);
    if (/^\d+$/.test(field)) {
      if (Number(field) > groupCount) add(['points', i, 'field'], `the pattern has only ${groupCount} groups, not ${field}`);
    } else if (!names.includes(field)) {
      const known = names.length > 0 ? names.join(', ') : 'none';
      add(['points', i, 'field'], `the pattern has no group named ${JSON.stringify(field)} (named groups: ${known})`);
    }
  });
}

function checkRequestKeys(device: SerialDeviceConfig, add: Add): void {
  if (device.request === undefined) {
    if (device.timeout !== undefined) add(['timeout'], 'timeout applies only with request (request/response mode)');
    if (device.reply_lines !== undefined) add(['reply_lines'], 'reply_lines applies only with request (request/response mode)');
    return;
  }
  if (decodeEscapes(device.request) === '') add(['request'], 'the request is empty');
  if (device.first_line !== undefined) add(['first_line'], 'first_line applies only in listen mode (without request)');
  const timeout = device.timeout === undefined ? undefined : durationOrUndefined(device.timeout);
  const interval = device.interval === undefined ? undefined : durationOrUndefined(device.interval);
  if (timeout === 0) add(['timeout'], 'timeout must be greater than 0');
  if (timeout !== undefined && interval !== undefined && timeout >= interval) {
    add(['timeout'], `timeout (${device.timeout}) must be shorter than interval (${device.interval})`);
  }
}

function checkCommand(point: SerialPointConfig, i: number, add: Add): void {
  if (point.writable === true && point.command === undefined) {
    add(['points', i, 'command'], 'a writable point needs a command, e.g. "SET {value}\\r\\n"');
  }
  if (point.max_length !== undefined && point.command === undefined) {
    add(['points', i, 'max_length'], 'max_length applies only to a writable point with a command');
  }
  if (point.command !== undefined) {
    if (point.writable !== true) add(['points', i, 'command'], 'command is set but the point is not writable: true');
    if (!point.command.includes(VALUE_PLACEHOLDER)) add(['points', i, 'command'], `command must contain ${VALUE_PLACEHOLDER}`);
  }
}

function compileError(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function durationOrUndefined(text: string): number | undefined {
  try {
    return parseDuration(text);
  } catch {
    // The schema reports malformed durations.
    return undefined;
  }
}
