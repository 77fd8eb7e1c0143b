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
    ['nel\u0085SET X 1', 'string'],
    ['ls\u2028SET X 1', 'string'],
    ['ps\u2029SET X 1', 'string'],
    ['bidi\u202eevil', 'string'],
    ['zw\u200bj', 'string'],
    ['0x10', 'float'],
    ['0b11', 'int'],
    ['Infinity', 'float'],
    [600000000.5, 'int'],
    ['9007199254740993.5', 'int'],
  ])('rejects %o for a %s point', (value, type) => {
    expect(() => render('SET {value}\n', value, type)).toThrow(CommandError);
  });

  it.each<[Scalar, FieldType, string]>([
    ['9007199254740993', 'int', 'SET 9007199254740993\n'],
    ['21.0', 'int', 'SET 21\n'],
    ['1e3', 'float', 'SET 1000\n'],
    ['1e3', 'int', 'SET 1000\n'],
  ])('the shared number rule: %o for a %s point → %j', (value, type, expected) => {
    expect(render('SET {value}\n', value, type)).toBe(expected);
  });

  it('refuses a value containing the device delimiter, even a printable one', () => {
    expect(() => render('SET {value};', 'a;RESET', 'string', { maxLength: 64, delimiter: ';' })).toThrow(/line delimiter/);
    expect(render('SET {value};', 'a,b', 'string', { maxLength: 64, delimiter: ';' })).toBe('SET a,b;');
  });

  it('limits the inserted value to max_length bytes', () => {
    expect(render('MSG {value}\n', 'é'.repeat(32), 'string', { maxLength: 64 })).toBe(`MSG ${'é'.repeat(32)}\n`);
    expect(() => render('MSG {value}\n', 'é'.repeat(33), 'string', { maxLength: 64 }))
      .toThrow(/value is 66 bytes; this point takes at most 64 \(max_length\)/);
    expect(() => render('N {value}\n', 1e300, 'float', { maxLength: 64 })).toThrow(/max_length/);
    let err: Error | undefined;
    try {
      render('MSG {value}\n', 'x'.repeat(1024 * 1024), 'string', { maxLength: 64 });
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(CommandError);
    expect(err!.message.length).toBeLessThan(100);
  });
});

describe('JSON templates: a value cannot change the structure', () => {
  it.each<[string, Scalar, FieldType, string]>([
    ['{"mode":"{value}"}\n', 'eco', 'string', '{"mode":"eco"}\n'],
    ['{"mode":"{value}"}\n', 'x","admin":true,"y":"', 'string', '{"mode":"x\\",\\"admin\\":true,\\"y\\":\\""}\n'],
    ['{"mode":"{value}"}\n', 'back\\slash', 'string', '{"mode":"back\\\\slash"}\n'],
    ['{"mode":{value}}\n', 'eco', 'string', '{"mode":"eco"}\n'],
    ['{"mode":{value}}\n', 'x","admin":true', 'string', '{"mode":"x\\",\\"admin\\":true"}\n'],
    ['{"sp":{value},"unit":"C"}\r\n', 21.5, 'float', '{"sp":21.5,"unit":"C"}\r\n'],
    ['{"sp":"{value}"}\n', 21.5, 'float', '{"sp":"21.5"}\n'],
    ['[{value},"{value}"]', 'a"b', 'string', '["a\\"b","a\\"b"]'],
    ['{"k":"esc \\" {value}"}', 'v"', 'string', '{"k":"esc \\" v\\""}'],
    // JSON after a prefix or before a terminator is still JSON.
    ['CMD {"mode":"{value}"};', 'x","admin":"1', 'string', 'CMD {"mode":"x\\",\\"admin\\":\\"1"};'],
    ['{value} {"mode":"{value}"}', 'a"b', 'string', 'a"b {"mode":"a\\"b"}'],
    // Not JSON (even with braces): a plain line.
    ['SET {value} {ok}\n', 'a"b', 'string', 'SET a"b {ok}\n'],
    ['{value}\n', 'a"b', 'string', 'a"b\n'],
  ])('%j with %j (%s) → %j', (template, value, type, expected) => {
    const out = render(template, value, type);
    expect(out).toBe(expected);
    const t = compileCommandTemplate(template);
    if (t.contexts.some((c) => c !== 'line')) {
      // The JSON part of the rendered command parses with exactly the template's keys.
      const json = (text: string) => JSON.parse(text.slice(text.search(/[{[]/), Math.max(text.lastIndexOf('}'), text.lastIndexOf(']')) + 1)) as object;
      expect(Object.keys(json(out))).toEqual(Object.keys(json(template.split('{value}').join('0'))));
    }
  });

  it('finds the context of every placeholder', () => {
    expect(compileCommandTemplate('{"a":"{value}","b":{value}}').contexts).toEqual(['json_string', 'json_value']);
    expect(compileCommandTemplate('SET {value}\r\n').contexts).toEqual(['line']);
    expect(compileCommandTemplate('{value}').contexts).toEqual(['line']);
    expect(compileCommandTemplate('{value}:{"a":{value}}\n').contexts).toEqual(['line', 'json_value']);
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
