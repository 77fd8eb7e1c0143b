import { describe, expect, it } from 'vitest';
import { MAX_REPLAY_REQUEST_BYTES, ReplayRefusal, parseReplayRequest } from '../../src/replay/replay-request.js';

const parse = (v: unknown) => parseReplayRequest(Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)));

function refusal(v: unknown): { code: string; id?: string; message: string } {
  try {
    parse(v);
  } catch (err) {
    if (!(err instanceof ReplayRefusal)) throw err;
    return { code: err.code, id: err.id, message: err.message };
  }
  throw new Error('not refused');
}

describe('parseReplayRequest', () => {
  it('reads a seq range and a time range with optional devices and points', () => {
    expect(parse({ id: 'r-1', from_seq: 5, to_seq: 9 })).toEqual({ id: 'r-1', range: { kind: 'seq', from: 5, to: 9 } });
    expect(parse({ id: 'r2', since: '2026-03-01T00:00:00Z', until: '2026-03-01T02:00:00+01:00', devices: ['meter'], points: ['p'] })).toEqual({
      id: 'r2', range: { kind: 'time', since: Date.parse('2026-03-01T00:00:00Z'), until: Date.parse('2026-03-01T01:00:00Z') },
      devices: ['meter'], points: ['p'],
    });
  });

  it.each([
    ['not JSON', 'nope', 'malformed', undefined],
    ['not an object', [1], 'malformed', undefined],
    ['no id', { from_seq: 1, to_seq: 2 }, 'malformed', undefined],
    ['a bad id', { id: 'a b', from_seq: 1, to_seq: 2 }, 'malformed', undefined],
    ['neither range', { id: 'x' }, 'malformed', 'x'],
    ['both ranges', { id: 'x', from_seq: 1, to_seq: 2, since: '2026-01-01T00:00:00Z', until: '2026-01-02T00:00:00Z' }, 'malformed', 'x'],
    ['half a seq range', { id: 'x', from_seq: 1 }, 'malformed', 'x'],
    ['seq 0', { id: 'x', from_seq: 0, to_seq: 2 }, 'malformed', 'x'],
    ['a fraction', { id: 'x', from_seq: 1.5, to_seq: 2 }, 'malformed', 'x'],
    ['a reversed range', { id: 'x', from_seq: 9, to_seq: 2 }, 'malformed', 'x'],
    ['too many seqs', { id: 'x', from_seq: 1, to_seq: 20_000_000 }, 'too_large', 'x'],
    ['a time without zone', { id: 'x', since: '2026-01-01T00:00:00', until: '2026-01-02T00:00:00Z' }, 'malformed', 'x'],
    ['a reversed time range', { id: 'x', since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }, 'malformed', 'x'],
    ['too long a time range', { id: 'x', since: '2020-01-01T00:00:00Z', until: '2026-01-01T00:00:00Z' }, 'too_large', 'x'],
    ['an unknown key', { id: 'x', from_seq: 1, to_seq: 2, topic: '#' }, 'malformed', 'x'],
    ['an empty device list', { id: 'x', from_seq: 1, to_seq: 2, devices: [] }, 'malformed', 'x'],
    ['too many names', { id: 'x', from_seq: 1, to_seq: 2, points: Array.from({ length: 300 }, (_, i) => `p${i}`) }, 'too_large', 'x'],
  ])('refuses %s', (_name, body, code, id) => {
    const r = refusal(body);
    expect(r.code).toBe(code);
    expect(r.id).toBe(id);
  });

  it('refuses an oversized payload before parsing it, and bounds the quoted input', () => {
    expect(refusal(`{"id":"${'x'.repeat(MAX_REPLAY_REQUEST_BYTES)}"}`).code).toBe('too_large');
    const r = refusal({ id: 'y'.repeat(5000).slice(0, 70), from_seq: 1, to_seq: 2 });
    expect(r.message.length).toBeLessThan(200);
  });
});
