import { describe, expect, it } from 'vitest';
import { CommandError, type Scalar } from '../../../src/driver-api/index.js';
import {
  compileCommandTemplate, formatPlain, renderCommand, type RenderLimits,
} from '../../../drivers/serial/command-template.js';
import { decodeEscapes, showEscapes } from '../../../drivers/serial/escapes.js';
import type { FieldType } from '../../../drivers/serial/field-type.js';

function render(template: string, value: Scalar, type: FieldType, limits: RenderLimits = { maxLength: 64 }): string {
  return renderCommand(compileCommandTemplate(template), value, type, limits);
}

describe('renderCommand', () => {
  it.each<[string, Scalar, FieldType, string]>([
    ['SET T {value}\r\n', 21.5, 'float', 'SET T 21.5\r\n'],
    ['SET T {value}\r\n', -3, 'float', 'SET T -3\r\n'],
    ['SET T {value}\r\n', 1e-7, 'float', 'SET T 0.0000001\r\n'],
    ['SET T {value}\r\n', 1.5e21, 'float', 'SET T 1500000000000000000000\r\n'],
    ['SET T {value}\r\n', '22.25', 'float', 'SET T 22.25\r\n'],
    ['SET T {value}\r\n', 7n, 'float', 'SET T 7\r\n'],
    ['N {value}\n', 42, 'int', 'N 42\n'],
    ['N {value}\n', '-5', 'int', 'N -5\n'],
    ['N {value}\n', 12345678901234567890n, 'int', 'N 12345678901234567890\n'],
    ['R{value}\n', true, 'bool', 'R1\n'],
    ['R{value}\n', false, 'bool', 'R0\n'],
    ['R{value}\n', 'on', 'bool', 'R1\n'],
    ['R{value}\n', 0, 'bool', 'R0\n'],
    ['R{value}\n', 1n, 'bool', 'R1\n'],
    ['MSG {value}\n', 'hello world', 'string', 'MSG hello world\n'],
    ['MSG {value}\n', true, 'string', 'MSG 1\n'],
    ['MSG {value}\n', 0.1, 'string', 'MSG 0.1\n'],
    ['{value},{value}\n', 3, 'int', '3,3\n'],
  ])('%j with %o (%s)', (template, value, type, expected) => {
    expect(render(template, value, type)).toBe(expected);
  });

  it.each<[Scalar, FieldType]>([
    ['abc', 'float'],
    [Number.NaN, 'float'],
    [Number.POSITIVE_INFINITY, 'float'],
    [true, 'float'],
    [1.5, 'int'],
    ['1.5', 'int'],
    [true, 'int'],
    [2, 'bool'],
    ['maybe', 'bool'],
    ['a\r\nSET X 1', 'string'],
    ['tab\there', 'string'],
  ])('rejects %o for a %s point', (value, type) => {
    expect(() => render('SET {value}\n', value, type)).toThrow(CommandError);
  });
});

describe('formatPlain', () => {
  it.each([
    [0, '0'],
    [-0, '0'],
    [1, '1'],
    [-2.5, '-2.5'],
    [0.000001, '0.000001'],
    [1.234e-9, '0.000000001234'],
    [-5e-7, '-0.0000005'],
    [1e21, '1000000000000000000000'],
    [123456789.125, '123456789.125'],
  ])('%s → %s', (n, text) => {
    expect(formatPlain(n)).toBe(text);
    expect(Number(formatPlain(n))).toBe(n === 0 ? 0 : n);
  });
});

describe('escapes', () => {
  it.each([
    ['R\\r\\n', 'R\r\n'],
    ['R\r\n', 'R\r\n'],
    ['a\\tb', 'a\tb'],
    ['\\x02STX\\x03', '\x02STX\x03'],
    ['back\\\\slash', 'back\\slash'],
    ['\\e[0m', '\x1b[0m'],
    ['keep \\q and \\x4', 'keep \\q and \\x4'],
    ['\\\\r', '\\r'],
  ])('decodeEscapes(%j)', (text, decoded) => {
    expect(decodeEscapes(text)).toBe(decoded);
  });

  it('showEscapes round-trips through decodeEscapes', () => {
    for (const s of ['R\r\n', '\x02a\\b\x03', 'plain', '\t\0\x1b\x7f']) {
      expect(decodeEscapes(showEscapes(s))).toBe(s);
    }
    expect(showEscapes('R\r\n')).toBe('R\\r\\n');
  });
});
