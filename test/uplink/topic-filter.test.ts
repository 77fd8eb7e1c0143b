import { describe, expect, it } from 'vitest';
import { filterProblem, topicMatches } from '../../src/uplink/topic-filter.js';

describe('topicMatches', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
    ['a/b', 'a/b/c', false],
    ['a/b/c', 'a/b', false],
    ['a', 'a/b', false],
    ['+', 'a', true],
    ['+', 'a/b', false],
    ['a/+', 'a/b', true],
    ['a/+', 'a', false],
    ['a/+', 'a/', true],
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/d', false],
    ['a/+/c', 'a/b/x/c', false],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['#', 'a', true],
    ['#', 'a/b/c', true],
    ['#', '/', true],
    ['a/#', 'a', true],
    ['a/#', 'a/b', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'ab', false],
    ['a/#', 'b/a', false],
    ['a/b/#', 'a', false],
    ['+/#', 'a', true],
    ['+/b/#', 'a/b', true],
    ['site/+/set', 'site/pump-1/set', true],
    ['site/+/set', 'site/pump-1/set/result', false],
    ['#', '$SYS/broker/uptime', false],
    ['+/broker/uptime', '$SYS/broker/uptime', false],
    ['$SYS/#', '$SYS/broker/uptime', true],
    ['$SYS/+/uptime', '$SYS/broker/uptime', true],
    ['$share/workers/a/+', 'a/b', true],
    ['$share/workers/a/+', 'b/b', false],
    ['$share/workers/#', '$SYS/x', false],
    ['A/b', 'a/b', false],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('filterProblem', () => {
  it.each(['a/b', '#', '+', 'a/+/b', 'a/#', '/', '+/+', '$share/g/a/#', '$SYS/#'])('accepts %s', (filter) => {
    expect(filterProblem(filter)).toBeUndefined();
  });

  it.each(['', 'a/#/b', 'a#', 'a/b#', 'a+/b', 'a/+b', '$share/g', '$share//a', '$share/+/a', 'a\u0000b'])(
    'rejects %j',
    (filter) => {
      expect(filterProblem(filter)).toEqual(expect.any(String));
    },
  );
});
