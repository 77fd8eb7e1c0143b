// The YAML layer: positions for every pointer, aliases within limits, odd keys kept as data.
import { describe, expect, it } from 'vitest';
import { parseSource, pointerOf } from '../../src/config/yaml-source.js';
import { lines, problems, validate } from './site-fixtures.js';

function at(text: string, pointer: string, side: 'key' | 'value' = 'value'): string {
  const source = parseSource(text, {});
  const spot = source.spots.get(pointer);
  if (!spot) return 'missing';
  const { line, col } = source.lineCounter.linePos(side === 'key' ? spot.key! : spot.value);
  return `${line}:${col}`;
}

describe('parseSource', () => {
  const text = lines('a:', '  b: [1, { c: x }]', '  "d/e~f": 2', 'empty:', 'list:', '  - one', '  -', '  - three');

  it('records key and value positions by JSON pointer', () => {
    expect(at(text, '')).toBe('1:1');
    expect(at(text, '/a', 'key')).toBe('1:1');
    expect(at(text, '/a/b')).toBe('2:6');
    expect(at(text, '/a/b/1/c')).toBe('2:15');
    expect(at(text, '/a/b/1/c', 'key')).toBe('2:12');
    expect(at(text, pointerOf(['a', 'd/e~f']), 'key')).toBe('3:3');
    expect(pointerOf(['a', 'd/e~f'])).toBe('/a/d~1e~0f');
    expect(at(text, '/list/2')).toBe('8:5');
  });

  it('points an empty value at its key', () => {
    expect(at(text, '/empty')).toBe('4:1');
  });

  it('resolves aliases to the anchored value', () => {
    const source = parseSource(lines('base: &b { x: 1 }', 'copy: *b'), {});
    expect(source.value).toEqual({ base: { x: 1 }, copy: { x: 1 } });
    expect(source.issues).toEqual([]);
  });

  it('resolves an alias to the anchor last written before it, not one repeated by another alias', () => {
    const source = parseSource(lines('a: &outer { b: &x 1 }', 'c: &x 2', 'd: *outer', 'e: *x'), {});
    expect(source.value).toEqual({ a: { b: 1 }, c: 2, d: { b: 1 }, e: 2 });
  });

  it('stops alias bombs and cycles without hanging', () => {
    const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) bomb.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const started = Date.now();
    const source = parseSource(lines(...bomb), {});
    // Without the limit this would expand to 10^9 values; generous bound for a loaded CI machine.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(source.issues.map((i) => i.message)).toContain('aliases expand to more than 100000 values; write the values out instead');

    const cycle = parseSource('a: &x [1, *x]\n', {});
    expect(cycle.issues.map((i) => i.message)).toEqual(['alias *x refers to a value that contains it']);
  });

  it('keeps __proto__ as an ordinary key', () => {
    const source = parseSource('__proto__: { polluted: true }\n', {});
    expect(Object.getPrototypeOf(source.value)).toBe(Object.prototype);
    expect(Object.keys(source.value as object)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('YAML problems as site-file errors', () => {
  it('reports unknown aliases, unsupported tags and non-text keys', () => {
    const text = lines('site: *nope', 'gateway: !!binary AAAA', '[a]: 1', 'mqtt: { url: "mqtt://b" }', 'devices: [{ name: d, driver: sim, points: [{ name: p, signal: sine }] }]');
    expect(problems(text)).toEqual([
      'site.yaml:1:7: alias *nope has no anchor &nope before it',
      'site.yaml:2:19: unsupported YAML value (tag !!binary); write it as plain text',
      'site.yaml:3:1: a key must be plain text',
    ]);
  });

  it('reports a second document', () => {
    const found = problems('site: a\n---\nsite: b\n');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^site\.yaml:\d+:\d+: YAML: Source contains multiple documents/);
  });

  it('accepts anchors shared between devices', () => {
    const text = lines(
      'site: p', 'mqtt: { url: "mqtt://b" }', 'devices:',
      '  - name: a', '    driver: sim', '    points: &pts', '      - { name: t, signal: sine }',
      '  - name: b', '    driver: sim', '    points: *pts',
    );
    expect(validate(text).config.devices.map((d) => d.points[0]!.name)).toEqual(['t', 't']);
  });
});
