// Pure parts of the uplink's thin-link behaviour: alias assignment, packet size, retry pace.
import { describe, expect, it } from 'vitest';
import { Mqtt5Publisher, publishPacketSize } from '../../src/uplink/mqtt5-publish.js';
import { RetryPace } from '../../src/uplink/retry-pace.js';

const msg = (topic: string, bytes = 10, contentType?: string) => ({ topic, payload: Buffer.alloc(bytes), qos: 1 as const, retain: false, contentType });

describe('Mqtt5Publisher', () => {
  it('assigns aliases first come first served, registers them only on commit, never recycles them', () => {
    const p = new Mqtt5Publisher(2, undefined);
    const first = p.plan(msg('a'));
    expect([first.topic, first.properties]).toEqual(['a', { topicAlias: 1 }]);
    // Not committed (e.g. refused as too large): the next publish must introduce the alias again.
    expect(p.plan(msg('a')).topic).toBe('a');
    p.plan(msg('a')).commit();
    p.plan(msg('b')).commit();
    expect(p.plan(msg('a'))).toMatchObject({ topic: '', properties: { topicAlias: 1 } });
    expect(p.plan(msg('b'))).toMatchObject({ topic: '', properties: { topicAlias: 2 } });
    const c = p.plan(msg('c'));
    c.commit();
    expect([c.topic, c.properties]).toEqual(['c', undefined]);
    expect(p.plan(msg('c')).topic).toBe('c');
  });

  it('uses no alias when the broker allows none, and adds the content type', () => {
    const p = new Mqtt5Publisher(0, undefined);
    expect(p.plan(msg('a', 10, 'application/cbor'))).toMatchObject({ topic: 'a', properties: { contentType: 'application/cbor' } });
  });

  it('flags publishes over the Maximum Packet Size', () => {
    const p = new Mqtt5Publisher(0, 100);
    expect(p.plan(msg('t', 80)).tooLarge).toBe(false);
    expect(p.plan(msg('t', 100)).tooLarge).toBe(true);
  });

  it.each([
    // fixed header 1 + remaining length 1; topic length 2 + topic; packet id 2; property length 1.
    ['bare', 'abc', 10, 1, {}, 2 + 2 + 3 + 2 + 1 + 10],
    ['QoS 0 has no packet id', 'abc', 10, 0, {}, 2 + 2 + 3 + 1 + 10],
    ['with an alias', '', 10, 1, { topicAlias: 1 }, 2 + 2 + 2 + 1 + 3 + 10],
    ['with a content type', 'abc', 10, 1, { contentType: 'application/cbor' }, 2 + 2 + 3 + 2 + 1 + 19 + 10],
    ['two-byte remaining length', 'abc', 200, 1, {}, 3 + 2 + 3 + 2 + 1 + 200],
  ] as const)('publishPacketSize: %s', (_name, topic, bytes, qos, props, expected) => {
    expect(publishPacketSize(topic, bytes, qos, props)).toBe(expected);
  });
});

describe('RetryPace', () => {
  const top = () => 0.999999;
  it('keeps refused attempts at the refused pace while backoff grows underneath', () => {
    const pace = new RetryPace({ initialMs: 1000, maxMs: 30_000, random: top }, 1000);
    expect([pace.next(true), pace.next(false), pace.next(false), pace.next(false)]).toEqual([1000, 1000, 1000, 1000]);
    // A failure at the broker after that takes the grown backoff.
    expect(pace.next(true)).toBe(16_000);
    pace.reset();
    expect(pace.next(true)).toBe(1000);
  });

  it('never waits longer than plain backoff would', () => {
    const pace = new RetryPace({ initialMs: 100, maxMs: 30_000, random: top }, 1000);
    expect([pace.next(false), pace.next(false), pace.next(false), pace.next(false), pace.next(false)]).toEqual([100, 200, 400, 800, 1000]);
  });
});
