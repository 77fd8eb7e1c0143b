// A site with computed points loads: the driver's defaults reach its own points, computed points
// keep their place and get the core's defaults; an expression error points inside the expression.
import { describe, expect, it } from 'vitest';
import { lines, problems, validate } from './site-fixtures.js';

const HEAD = ['site: plant-7', 'gateway: gw-01', 'mqtt:', '  url: mqtt://127.0.0.1:1883', 'devices:'];

describe('computed points in the site file', () => {
  it('load with the driver defaults applied to the driver points only, in the order written', () => {
    const text = lines(
      ...HEAD,
      '  - name: meter',
      '    driver: sim',
      '    points:',
      '      - { name: total, expr: "a + b", unit: W }',
      '      - { name: a, signal: random }',
      '      - { name: b, signal: sine }',
    );
    const [device] = validate(text).config.devices;
    expect(device!.points.map((p) => p.name)).toEqual(['total', 'a', 'b']);
    expect(device!.points[0]).toEqual({ name: 'total', expr: 'a + b', unit: 'W', topic: '{site}/{device}/{point}', qos: 1, retain: false });
    // The sim driver's own defaults reached its points.
    expect(device!.points[1]).toMatchObject({ amplitude: 10, value: 0 });
  });

  const where: [string, string, string][] = [
    ['plain', '      - { name: c, expr: a + nope }', 'site.yaml:10:30'],
    ['double-quoted', '      - { name: c, expr: "a + nope" }', 'site.yaml:10:31'],
    ['single-quoted', "      - { name: c, expr: 'a + nope' }", 'site.yaml:10:31'],
    // A block scalar is not written one to one: the value's own position.
    ['block', '      - name: c\n        expr: |\n          a + nope', 'site.yaml:11:15'],
  ];
  it.each(where)('an unknown name in a %s expression is reported at its position', (_kind, line, position) => {
    const text = lines(...HEAD, '  - name: meter', '    driver: sim', '    points:', '      - { name: a, signal: sine }', line);
    const found = problems(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(position);
    expect(found[0]).toContain("unknown point 'nope'");
  });
});
