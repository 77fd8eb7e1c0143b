import { describe, expect, it } from 'vitest';
import { EMPTY_STATE, LineSplitter, splitChunk } from '../../../drivers/serial/line-splitter.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Feeds the chunks one by one and collects every line and overflow. */
function run(chunks: string[], delimiter: string, maxLine: number): { lines: string[]; overflows: number; pending: number } {
  const splitter = new LineSplitter(b(delimiter), maxLine);
  const lines: string[] = [];
  let overflows = 0;
  for (const c of chunks) {
    const out = splitter.push(b(c));
    lines.push(...out.lines.map((l) => l.toString('latin1')));
    overflows += out.overflows;
  }
  return { lines, overflows, pending: splitter.pendingBytes };
}

describe('splitChunk / LineSplitter', () => {
  it.each([
    { name: 'one line', chunks: ['abc\n'], delim: '\n', max: 100, lines: ['abc'], overflows: 0, pending: 0 },
    { name: 'several lines in one chunk', chunks: ['a\nb\nc\n'], delim: '\n', max: 100, lines: ['a', 'b', 'c'], overflows: 0, pending: 0 },
    { name: 'line across chunks', chunks: ['ab', 'c', 'd\ne'], delim: '\n', max: 100, lines: ['abcd'], overflows: 0, pending: 1 },
    { name: 'CRLF delimiter split between chunks', chunks: ['T=1\r', '\nT=2\r\n'], delim: '\r\n', max: 100, lines: ['T=1', 'T=2'], overflows: 0, pending: 0 },
    { name: 'bare CR is not a CRLF delimiter', chunks: ['a\rb\r\n'], delim: '\r\n', max: 100, lines: ['a\rb'], overflows: 0, pending: 0 },
    { name: 'empty lines are kept (dropped later)', chunks: ['\n\nx\n'], delim: '\n', max: 100, lines: ['', '', 'x'], overflows: 0, pending: 0 },
    { name: 'three-byte delimiter byte by byte', chunks: ['a', '<', '<', '<', 'b', '<', '<', '<'], delim: '<<<', max: 100, lines: ['a', 'b'], overflows: 0, pending: 0 },
    { name: 'line exactly max_line long', chunks: ['12345\n'], delim: '\n', max: 5, lines: ['12345'], overflows: 0, pending: 0 },
    { name: 'complete line over max_line', chunks: ['123456\nok\n'], delim: '\n', max: 5, lines: ['ok'], overflows: 1, pending: 0 },
    { name: 'no delimiter: cut, then resume after the next one', chunks: ['1234567', '89', 'xx\nok\n'], delim: '\n', max: 5, lines: ['ok'], overflows: 1, pending: 0 },
    { name: 'endless garbage counts one overflow', chunks: ['aaaaaaaa', 'aaaaaaaa', 'aaaaaaa'], delim: '\n', max: 5, lines: [], overflows: 1, pending: 0 },
    { name: 'delimiter split across chunks while discarding', chunks: ['aaaaaaaa\r', '\nok\r\n'], delim: '\r\n', max: 5, lines: ['ok'], overflows: 1, pending: 0 },
    { name: 'two oversized lines count twice', chunks: ['aaaaaaaa\nbbbbbbbb\nc\n'], delim: '\n', max: 5, lines: ['c'], overflows: 2, pending: 0 },
  ])('$name', ({ chunks, delim, max, lines, overflows, pending }) => {
    expect(run(chunks, delim, max)).toEqual({ lines, overflows, pending });
  });

  it('keeps at most max_line bytes pending on a line that never ends', () => {
    let state = EMPTY_STATE;
    for (let i = 0; i < 1000; i += 1) {
      state = splitChunk(state, b('x'.repeat(100)), b('\r\n'), 64).state;
      expect(state.pending.length).toBeLessThanOrEqual(64);
    }
    expect(state.discarding).toBe(true);
  });

  it('is pure: the input state is not modified', () => {
    const before = { pending: b('ab'), discarding: false };
    const copy = Buffer.from(before.pending);
    splitChunk(before, b('c\nd'), b('\n'), 10);
    expect(before.pending.equals(copy)).toBe(true);
  });

  it('reset("skip_partial") drops the bytes before the first delimiter', () => {
    const splitter = new LineSplitter(b('\n'), 100);
    splitter.reset('skip_partial');
    expect(splitter.push(b('.5,40.1\n21.5,40.2\n')).lines.map(String)).toEqual(['21.5,40.2']);
  });

  it('reset() forgets a half line', () => {
    const splitter = new LineSplitter(b('\n'), 100);
    splitter.push(b('garb'));
    splitter.reset();
    expect(splitter.push(b('OK\n')).lines.map(String)).toEqual(['OK']);
  });

  it('rejects an empty delimiter', () => {
    expect(() => splitChunk(EMPTY_STATE, b('x'), b(''), 10)).toThrow(RangeError);
  });
});
