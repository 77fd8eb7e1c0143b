import { describe, expect, it } from 'vitest';
import { mergeDefaults } from '../../src/util/merge-defaults.js';

describe('mergeDefaults', () => {
  it.each([
    ['fills missing keys', { a: 1, b: 2 }, { a: 5 }, { a: 5, b: 2 }],
    ['an undefined key takes the default', { a: 1 }, { a: undefined }, { a: 1 }],
    ['a set key wins, whatever its value', { a: 1, b: true }, { a: 0, b: false }, { a: 0, b: false }],
    ['nested objects are filled key by key', { r: { initial: '1s', max: '60s' } }, { r: { max: '5s' } }, { r: { initial: '1s', max: '5s' } }],
    ['keys the defaults do not name pass through', { a: 1 }, { z: 'x' }, { a: 1, z: 'x' }],
    ['arrays are values, not merged', { list: [1, 2] }, { list: [9] }, { list: [9] }],
  ])('%s', (_name, defaults, value, expected) => {
    expect(mergeDefaults(defaults as object, value as object)).toEqual(expected);
  });

  it('is idempotent and leaves its inputs alone', () => {
    const defaults = { r: { a: 1 } };
    const value = { r: {} };
    const once = mergeDefaults(defaults, value);
    expect(mergeDefaults(defaults, once)).toEqual(once);
    expect(value).toEqual({ r: {} });
  });
});
