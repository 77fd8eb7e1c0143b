// The unsafe-character class for command text, and bounded quoting of values in messages.
import { describe, expect, it } from 'vitest';
import { unsafeCommandChar } from '../../src/util/command-text.js';
import { boundedText, boundedValue, quoteValue } from '../../src/util/quote-value.js';

describe('unsafeCommandChar', () => {
  it.each([
    ['a\nb', 'U+000A'],
    ['a\rb', 'U+000D'],
    ['\0', 'U+0000'],
    ['\t', 'U+0009'],
    ['esc \x1b[2J', 'U+001B'],
    ['del \x7f', 'U+007F'],
    ['nel \u0085', 'U+0085'],
    ['csi \u009b', 'U+009B'],
    ['line \u2028 sep', 'U+2028'],
    ['para \u2029 sep', 'U+2029'],
    ['bidi \u202e override', 'U+202E'],
    ['zero\u200bwidth', 'U+200B'],
    ['bom \ufeff', 'U+FEFF'],
    ['soft\u00adhyphen', 'U+00AD'],
    ['lone \ud800 surrogate', 'U+D800'],
  ])('%j is refused (%s)', (text, code) => {
    expect(unsafeCommandChar(text)).toBe(code);
  });

  it.each(['SET 21.5', 'ünïcödé', '日本語', 'emoji 😀', 'nbsp\u00a0ok', '{"a":"b"}', ''])('%j is safe', (text) => {
    expect(unsafeCommandChar(text)).toBeUndefined();
  });
});

describe('bounded quoting', () => {
  it('keeps short text and cuts long text to a prefix, an ellipsis and the length', () => {
    expect(boundedText('x'.repeat(64))).toBe('x'.repeat(64));
    expect(boundedText('x'.repeat(1_048_576))).toBe(`${'x'.repeat(40)}… (1048576 chars)`);
    expect(quoteValue('a"b\n')).toBe('"a\\"b\\n"');
    expect(quoteValue('y'.repeat(100))).toBe(`"${'y'.repeat(40)}… (100 chars)"`);
    expect(quoteValue(10n ** 100n)).toBe(`${'1'}${'0'.repeat(39)}… (101 chars)`);
    expect(quoteValue(21.5)).toBe('21.5');
  });

  it('never splits a surrogate pair', () => {
    const text = `${'x'.repeat(39)}😀${'y'.repeat(100)}`;
    expect(boundedText(text)).toBe(`${'x'.repeat(39)}… (${text.length} chars)`);
  });

  it('boundedValue leaves short values as they are', () => {
    expect(boundedValue(5)).toBe(5);
    expect(boundedValue(true)).toBe(true);
    expect(boundedValue('eco')).toBe('eco');
    expect(boundedValue(9007199254740993n)).toBe('9007199254740993');
  });
});
