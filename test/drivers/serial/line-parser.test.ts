import { describe, expect, it } from 'vitest';
import {
  cleanLine, compileLineParser, decodeLines, parsePath, pointSpecs, truncateLine, type FormatOptions, type PointSpec,
} from '../../../drivers/serial/line-parser.js';

function decode(options: Omit<FormatOptions, 'fields'>, specs: PointSpec[], lines: string[]) {
  const parser = compileLineParser({ ...options, fields: specs.map((s) => s.field) });
  return decodeLines(parser, specs, lines);
}

const temp = (field: string): PointSpec => ({ point: 'temperature', field, type: 'float' });
const hum = (field: string): PointSpec => ({ point: 'humidity', field, type: 'float' });

describe('regex format', () => {
  const options = { format: 'regex' as const, pattern: '^T=(?<temp>-?[\\d.]+),H=(?<hum>[\\d.]+)(?:,S=(?<state>\\w+))?$' };
  const specs = [temp('temp'), hum('hum'), { point: 'state', field: 'state', type: 'string' as const }];

  it.each([
    { line: 'T=21.5,H=40.2,S=ok', values: [['temperature', 21.5], ['humidity', 40.2], ['state', 'ok']], failures: 0, bad: 0 },
    { line: 'T=-3,H=99', values: [['temperature', -3], ['humidity', 99]], failures: 1, bad: 0 },
    { line: 'T=1.2.3,H=40', values: [['humidity', 40]], failures: 2, bad: 0 },
    { line: '.5,H=40.2', values: [], failures: 0, bad: 1 },
    { line: 'garbage\u0000\u00ff', values: [], failures: 0, bad: 1 },
  ])('$line', ({ line, values, failures, bad }) => {
    const d = decode(options, specs, [line]);
    expect(d.values.map((v) => [v.point, v.value])).toEqual(values);
    expect(d.failures).toHaveLength(failures);
    expect(d.badLines).toHaveLength(bad);
  });

  it('reads numbered groups', () => {
    const d = decode({ format: 'regex', pattern: '^(\\d+);(\\d+)$' }, [{ point: 'b', field: '2', type: 'int' }], ['7;8']);
    expect(d.values).toEqual([{ point: 'b', value: 8 }]);
  });

  it('says why a line was rejected', () => {
    const d = decode(options, specs, ['nope']);
    expect(d.badLines).toEqual([{ line: 'nope', reason: 'does not match pattern' }]);
  });
});

describe('csv format', () => {
  const specs = [temp('0'), hum('2'), { point: 'ok', field: '3', type: 'bool' as const }];

  it.each([
    { name: 'plain', line: '21.5,x,40.2,1', values: [['temperature', 21.5], ['humidity', 40.2], ['ok', true]], failures: 0, bad: 0 },
    { name: 'spaces and quotes', line: ' 21.5 , x , "40.2" , on ', values: [['temperature', 21.5], ['humidity', 40.2], ['ok', true]], failures: 0, bad: 0 },
    { name: 'extra columns are fine without columns:', line: '1,2,3,0,5,6', values: [['temperature', 1], ['humidity', 3], ['ok', false]], failures: 0, bad: 0 },
    { name: 'too few columns', line: '21.5,x,40.2', values: [], failures: 0, bad: 1 },
    { name: 'non-numeric field', line: 'ERR,x,40.2,1', values: [['humidity', 40.2], ['ok', true]], failures: 1, bad: 0 },
    { name: 'empty field', line: ',x,40.2,1', values: [['humidity', 40.2], ['ok', true]], failures: 1, bad: 0 },
  ])('$name', ({ line, values, failures, bad }) => {
    const d = decode({ format: 'csv' }, specs, [line]);
    expect(d.values.map((v) => [v.point, v.value])).toEqual(values);
    expect(d.failures).toHaveLength(failures);
    expect(d.badLines).toHaveLength(bad);
  });

  it('enforces an exact column count with columns:', () => {
    const opts = { format: 'csv' as const, columns: 4 };
    expect(decode(opts, specs, ['1,2,3,1']).values).toHaveLength(3);
    expect(decode(opts, specs, ['1,2,3,1,5']).badLines[0]).toMatchObject({ reason: 'expected 4 fields', got: '5' });
  });

  it('takes another separator, escapes decoded', () => {
    const d = decode({ format: 'csv', separator: '\\t' }, [temp('1')], ['a\t19.25']);
    expect(d.values).toEqual([{ point: 'temperature', value: 19.25 }]);
    const s = decode({ format: 'csv', separator: ';' }, [temp('1')], ['a;19.25']);
    expect(s.values).toEqual([{ point: 'temperature', value: 19.25 }]);
  });
});

describe('kv format', () => {
  const specs = [temp('T'), hum('H')];

  it.each([
    { name: 'plain', sep: ',', line: 'T=21.5,H=40', values: [['temperature', 21.5], ['humidity', 40]], failures: 0, bad: 0 },
    { name: 'order and spacing do not matter', sep: ',', line: ' H = 40 , T=21.5 ', values: [['temperature', 21.5], ['humidity', 40]], failures: 0, bad: 0 },
    { name: 'space separated with a tag', sep: ' ', line: '$WX  T=21.5 H=40', values: [['temperature', 21.5], ['humidity', 40]], failures: 0, bad: 0 },
    { name: 'value containing =', sep: ',', line: 'T=21.5,H=4=0', values: [['temperature', 21.5]], failures: 1, bad: 0 },
    { name: 'missing key', sep: ',', line: 'T=21.5', values: [['temperature', 21.5]], failures: 1, bad: 0 },
    { name: 'no pairs at all', sep: ',', line: 'hello world', values: [], failures: 0, bad: 1 },
    { name: 'keys are case-sensitive', sep: ',', line: 't=1,h=2', values: [], failures: 2, bad: 0 },
  ])('$name', ({ sep, line, values, failures, bad }) => {
    const d = decode({ format: 'kv', separator: sep }, specs, [line]);
    expect(d.values.map((v) => [v.point, v.value])).toEqual(values);
    expect(d.failures).toHaveLength(failures);
    expect(d.badLines).toHaveLength(bad);
  });
});

describe('json format', () => {
  const specs: PointSpec[] = [
    temp('env.temp'),
    { point: 'first', field: 'list[0]', type: 'int' },
    { point: 'second', field: 'list.1', type: 'int' },
    { point: 'on', field: 'relay', type: 'bool' },
    { point: 'name', field: 'id', type: 'string' },
  ];

  it.each([
    {
      name: 'all fields',
      line: '{"env":{"temp":21.5},"list":[4,5],"relay":true,"id":"wx-1"}',
      values: [['temperature', 21.5], ['first', 4], ['second', 5], ['on', true], ['name', 'wx-1']],
      failures: 0,
      bad: 0,
    },
    { name: 'numbers as strings', line: '{"env":{"temp":"21.5"},"list":["4","5"],"relay":"on","id":7}', values: [['temperature', 21.5], ['first', 4], ['second', 5], ['on', true], ['name', '7']], failures: 0, bad: 0 },
    { name: 'missing path', line: '{"env":{},"list":[4],"relay":0,"id":"x"}', values: [['first', 4], ['on', false], ['name', 'x']], failures: 2, bad: 0 },
    { name: 'null and objects are not values', line: '{"env":{"temp":null},"list":[{},5],"relay":[1],"id":{"a":1}}', values: [['second', 5]], failures: 4, bad: 0 },
    { name: 'truncated JSON', line: '{"env":{"temp":21.5},"li', values: [], failures: 0, bad: 1 },
    { name: 'a JSON scalar', line: '42', values: [], failures: 5, bad: 0 },
    { name: 'inherited properties are not fields', line: '{"env":{"temp":1},"list":[],"id":"constructor"}', values: [['temperature', 1], ['name', 'constructor']], failures: 3, bad: 0 },
  ])('$name', ({ line, values, failures, bad }) => {
    const d = decode({ format: 'json' }, specs, [line]);
    expect(d.values.map((v) => [v.point, v.value])).toEqual(values);
    expect(d.failures).toHaveLength(failures);
    expect(d.badLines).toHaveLength(bad);
  });

  it.each([
    ['a', ['a']],
    ['a.b.c', ['a', 'b', 'c']],
    ['a[0]', ['a', '0']],
    ['a[0][2].b', ['a', '0', '2', 'b']],
    ['0.x', ['0', 'x']],
    ['a..b', undefined],
    ['a[x]', undefined],
    ['', undefined],
  ])('parsePath(%j)', (path, expected) => {
    expect(parsePath(path)).toEqual(expected);
  });
});

describe('decodeLines over a multi-line reply', () => {
  it('merges fields of all lines; a good line after a bad one wins', () => {
    const specs = [temp('T'), hum('H')];
    const d = decode({ format: 'kv' }, specs, ['T=20', 'H=40', 'junk']);
    expect(d.values).toEqual([{ point: 'temperature', value: 20 }, { point: 'humidity', value: 40 }]);
    expect(d.badLines).toEqual([{ line: 'junk', reason: 'no key=value pairs' }]);
  });

  it('later lines override earlier ones', () => {
    const d = decode({ format: 'kv' }, [temp('T')], ['T=20', 'T=21']);
    expect(d.values).toEqual([{ point: 'temperature', value: 21 }]);
  });

  it('reports nothing but bad lines when no line parses', () => {
    const d = decode({ format: 'json' }, [temp('t')], ['{', 'x']);
    expect(d).toEqual({ values: [], failures: [], badLines: [expect.anything(), expect.anything()] });
  });
});

describe('pointSpecs', () => {
  it('defaults field to the point name and type to float', () => {
    expect(pointSpecs({ points: [{ name: 'temp' }, { name: 'n', field: 3, type: 'int' }] })).toEqual([
      { point: 'temp', field: 'temp', type: 'float' },
      { point: 'n', field: '3', type: 'int' },
    ]);
  });
});

describe('cleanLine', () => {
  it.each([
    ['abc', undefined, 'abc'],
    ['abc\r', undefined, 'abc'],
    ['\nabc\r\n', undefined, 'abc'],
    ['  abc  ', undefined, '  abc  '],
    ['', undefined, undefined],
    ['\r', undefined, undefined],
    ['   ', undefined, undefined],
    ['# comment', /^#/, undefined],
    ['OK', /^(OK|ERR)$/, undefined],
    ['T=1', /^(OK|ERR)$/, 'T=1'],
  ])('%j', (raw, ignore, expected) => {
    expect(cleanLine(Buffer.from(raw), ignore)).toBe(expected);
  });
});

describe('cleanLine with invalid UTF-8', () => {
  it.each<[string, number[]]>([
    ['a truncated 2-byte sequence', [0x41, 0xc3]],
    ['a bad continuation', [0x41, 0xc3, 0x28]],
    ['a lone continuation byte', [0x80, 0x41]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['a UTF-16 surrogate encoded in UTF-8', [0xed, 0xa0, 0x80]],
    ['0xff', [0x31, 0xff, 0x32]],
    ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ])('%s is an InvalidLine, not text with U+FFFD', (_name, bytes) => {
    const line = cleanLine(Buffer.from(bytes), undefined);
    expect(line).toMatchObject({ invalid: expect.stringMatching(/^invalid UTF-8/) as unknown });
  });

  it('valid multi-byte text passes, and an ignored line is ignored even when invalid', () => {
    expect(cleanLine(Buffer.from('T=21,5°C ✓ 😀\r'), undefined)).toBe('T=21,5°C ✓ 😀');
    expect(cleanLine(Buffer.from([0x23, 0xff]), /^#/)).toBeUndefined();
  });
});

describe('truncateLine', () => {
  it('shortens long lines and says how long they were', () => {
    expect(truncateLine('x'.repeat(500), 10)).toBe(`${'x'.repeat(10)}… (500 chars)`);
    expect(truncateLine('short', 10)).toBe('short');
  });
});

describe('stable reasons', () => {
  // A reason becomes the error of a published bad reading: garbage that differs at every poll
  // must still give one text, or the point is published at every poll. The data goes in `got`.
  it.each([
    ['a garbled number', { format: 'csv' as const }, [temp('0')], ['ERR', 'E#R', '--']],
    ['a wrong column count', { format: 'csv' as const, columns: 2 }, [temp('0')], ['1', '1,2,3', '1,2,3,4']],
    ['invalid JSON', { format: 'json' as const }, [temp('t')], ['{"t":', '{t:1}', '[1,']],
    ['a bad integer', { format: 'kv' as const }, [{ point: 'n', field: 'n', type: 'int' as const }], ['n=x', 'n=1.5', 'n=abc']],
  ])('%s', (_name, options, specs, lines) => {
    const reasons = lines.map((line) => {
      const d = decode(options, specs, [line]);
      return d.badLines[0]?.reason ?? d.failures[0]?.reason;
    });
    expect(reasons[0]).toBeDefined();
    expect(new Set(reasons).size).toBe(1);
  });
});
