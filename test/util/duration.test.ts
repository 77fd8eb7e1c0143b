import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, SIZE_PATTERN, formatDuration, parseDuration, parseSize } from '../../src/util/duration.js';

describe('parseDuration', () => {
  it.each([
    ['0ms', 0],
    ['1ms', 1],
    ['500ms', 500],
    ['5s', 5000],
    ['0.5s', 500],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m15s250ms', 5_415_250],
    ['  10s  ', 10_000],
    ['0.0005s', 1], // rounded to whole milliseconds
    ['0.4ms', 0],
  ])('%j → %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '', '   ', '5', '10 s', 's', '-5s', '+5s', '5S', '5sec', '1.s', '.5s', '5s ms', '1e3ms', '5us', '1w', 'ten seconds', '5s,', 'Infinity',
  ])('rejects %j with a RangeError', (text) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });

  it('agrees with the JSON-schema pattern on what is valid', () => {
    const re = new RegExp(DURATION_PATTERN);
    for (const text of ['500ms', '1m30s', '1.5h', '5', '5 s', '-1s', '1e3ms', '']) {
      let valid = true;
      try {
        parseDuration(text);
      } catch {
        valid = false;
      }
      expect(re.test(text), text).toBe(valid);
    }
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [1, '1ms'],
    [500, '500ms'],
    [1000, '1s'],
    [1500, '1500ms'],
    [5000, '5s'],
    [90_000, '90s'],
    [60_000, '1m'],
    [120_000, '2m'],
    [3_600_000, '1h'],
    [5_400_000, '90m'],
    [86_400_000, '24h'],
  ])('%i → %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [0, 1, 999, 1000, 1001, 59_999, 60_000, 61_000, 3_600_000, 3_601_000, 86_400_000, 604_800_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

describe('parseSize', () => {
  it.each<[string | number, number]>([
    ['4096', 4096],
    ['0', 0],
    ['10B', 10],
    ['1KB', 1000],
    ['10MB', 10_000_000],
    ['1GB', 1_000_000_000],
    ['1KiB', 1024],
    ['1.5KiB', 1536],
    ['256MiB', 268_435_456],
    ['2GiB', 2_147_483_648],
    ['10 MB', 10_000_000],
    [' 64MiB ', 67_108_864],
    ['1.5B', 2], // rounded to whole bytes
    [4096, 4096],
  ])('%j → %i bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'MB', '10mb', '10 kb', '10Kib', '10TB', '-1MB', '1e6', '1,000', 'ten', '10MB extra', '.5MB'])(
    'rejects %j with a RangeError',
    (text) => {
      expect(() => parseSize(text)).toThrow(RangeError);
      expect(() => parseSize(text)).toThrow(/invalid size/);
    },
  );

  it('agrees with the JSON-schema pattern on what is valid', () => {
    const re = new RegExp(SIZE_PATTERN);
    for (const text of ['256MiB', '10 MB', '4096', '1.5KiB', '10mb', '-1MB', 'MB']) {
      let valid = true;
      try {
        parseSize(text);
      } catch {
        valid = false;
      }
      expect(re.test(text), text).toBe(valid);
    }
  });
});
