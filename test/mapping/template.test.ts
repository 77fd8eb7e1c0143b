import { describe, expect, it } from 'vitest';
import { compileTemplate, templateVariables, topicProblem } from '../../src/mapping/template.js';

const VARS = { site: 'plant1', device: 'meter-1', point: 'voltage_l1', area: 'north' };

describe('templateVariables', () => {
  it.each([
    ['{site}/{device}/{point}', ['site', 'device', 'point']],
    ['{site}/{device}/{site}/{point}', ['site', 'device', 'point']],
    ['fixed/topic', []],
    ['', []],
    ['{area}-{_x9}/{point}', ['area', '_x9', 'point']],
    // Not variables: empty braces, a leading digit, a dash inside, an unclosed brace.
    ['{}/{9a}/{a-b}/{open', []],
  ])('%s → %j', (source, expected) => {
    expect(templateVariables(source)).toEqual(expected);
  });
});

describe('compileTemplate', () => {
  it.each([
    ['{site}/{device}/{point}', 'plant1/meter-1/voltage_l1'],
    ['{site}/{area}/{device}/{point}', 'plant1/north/meter-1/voltage_l1'],
    ['prefix-{device}-suffix', 'prefix-meter-1-suffix'],
    ['{point}{point}', 'voltage_l1voltage_l1'],
    ['no/variables/here', 'no/variables/here'],
    ['', ''],
    ['{}/{9a}/{point}', '{}/{9a}/voltage_l1'],
  ])('renders %j as %j', (source, expected) => {
    expect(compileTemplate(source).render(VARS)).toBe(expected);
  });

  it('keeps its source and variables', () => {
    const t = compileTemplate('{site}/{device}/{site}');
    expect(t.source).toBe('{site}/{device}/{site}');
    expect(t.variables).toEqual(['site', 'device']);
  });

  it('inserts values verbatim (no second expansion of braces inside values)', () => {
    expect(compileTemplate('{a}/{b}').render({ a: '{b}', b: 'x' })).toBe('{b}/x');
  });

  it('renders the same template many times with different values', () => {
    const t = compileTemplate('{site}/{device}');
    expect(t.render({ site: 's', device: 'a' })).toBe('s/a');
    expect(t.render({ site: 's', device: 'b' })).toBe('s/b');
  });

  it('throws a RangeError naming the missing variable', () => {
    const t = compileTemplate('{site}/{room}/{point}');
    expect(() => t.render({ site: 's', point: 'p' })).toThrow(RangeError);
    expect(() => t.render({ site: 's', point: 'p' })).toThrow(/\{room\}/);
  });

  it('accepts an empty string as a value (unlike a missing one)', () => {
    expect(compileTemplate('{site}/{gateway}').render({ site: 's', gateway: '' })).toBe('s/');
  });
});

describe('topicProblem', () => {
  it.each([
    ['an ordinary topic', 'plant1/meter-1/voltage'],
    ['one level', 'a'],
    ['leading and trailing slashes', '/leading/and/trailing/'],
    ['non-ASCII levels', 'ünïcödé/温度'],
    ['exactly 65535 bytes', 'x'.repeat(65535)],
  ])('accepts %s', (_label, topic) => {
    expect(topicProblem(topic)).toBeUndefined();
  });

  it.each([
    ['an empty topic', '', /empty/],
    ['a + wildcard', 'a/+/b', /wildcard/],
    ['a # wildcard', 'a/#', /wildcard/],
    ['a # inside a level', 'a#b', /wildcard/],
    ['a NUL character', 'a\u0000b', /NUL/],
    ['65536 bytes', 'x'.repeat(65536), /65535/],
    // 32,768 two-byte characters: short in UTF-16 units, too long in UTF-8 bytes.
    ['65536 UTF-8 bytes in 32768 characters', 'é'.repeat(32768), /65535/],
  ])('rejects %s', (_label, topic, problem) => {
    expect(topicProblem(topic)).toMatch(problem);
  });
});
