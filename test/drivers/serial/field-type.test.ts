import { describe, expect, it } from 'vitest';
import { typeField, type FieldType, type RawField } from '../../../drivers/serial/field-type.js';

describe('typeField', () => {
  it.each<[RawField, FieldType, unknown]>([
    ['21.5', 'float', 21.5],
    [' -0.25 ', 'float', -0.25],
    ['+3', 'float', 3],
    ['.5', 'float', 0.5],
    ['1e3', 'float', 1000],
    ['7.', 'float', 7],
    [12.75, 'float', 12.75],
    ['42', 'int', 42],
    ['-7', 'int', -7],
    ['21.0', 'int', 21],
    [42, 'int', 42],
    ['9007199254740993', 'int', 9007199254740993n],
    ['-9007199254740993', 'int', -9007199254740993n],
    ['1', 'bool', true],
    ['0', 'bool', false],
    ['TRUE', 'bool', true],
    ['False', 'bool', false],
    ['on', 'bool', true],
    ['OFF', 'bool', false],
    ['Yes', 'bool', true],
    ['no', 'bool', false],
    [true, 'bool', true],
    [0, 'bool', false],
    ['hello world', 'string', 'hello world'],
    [12, 'string', '12'],
    ['', 'string', ''],
  ])('%o as %s → %o', (raw, type, expected) => {
    expect(typeField(raw, type)).toEqual({ ok: true, value: expected });
  });

  it.each<[RawField, FieldType]>([
    ['', 'float'],
    ['abc', 'float'],
    ['21,5', 'float'],
    ['NaN', 'float'],
    ['Infinity', 'float'],
    ['1e999', 'float'],
    ['0x1F', 'float'],
    ['12abc', 'float'],
    [true, 'float'],
    [null, 'float'],
    [{ a: 1 }, 'float'],
    [[1], 'float'],
    ['21.5', 'int'],
    ['', 'int'],
    ['4 2', 'int'],
    [1.5, 'int'],
    [false, 'int'],
    ['2', 'bool'],
    ['maybe', 'bool'],
    ['', 'bool'],
    [null, 'string'],
    [{}, 'string'],
  ])('%o as %s is rejected', (raw, type) => {
    const typed = typeField(raw, type);
    expect(typed.ok).toBe(false);
    if (!typed.ok) expect(typed.reason).not.toBe('');
  });
});
