import { expect, it } from 'vitest';
import { pino } from 'pino';
import { DeviceError } from '../../src/driver-api/index.js';
import { FaultState } from '../../src/scheduler/fault-state.js';

interface Line {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function setup(summaryEveryMs?: number) {
  let now = 0;
  const lines: Line[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  const state = new FaultState({ logger, clock: { now: () => now }, summaryEveryMs });
  const warnings = () => lines.filter((l) => l.level >= 40);
  return { state, lines, warnings, advance: (ms: number) => void (now += ms) };
}

it('a device failing the same way at every poll logs one warning, then a summary once a minute', () => {
  const { state, warnings, advance } = setup();
  // Ten requests per poll, each with its own text, every 100 ms for 5 minutes.
  for (let poll = 0; poll < 3000; poll += 1) {
    for (let r = 0; r < 10; r += 1) {
      state.fault('exception', new DeviceError('exception', `read holding ${r * 10}..${r * 10 + 9} (unit 1): exception 04 (server device failure)`));
    }
    state.pollFailed();
    advance(100);
  }
  const w = warnings();
  expect(w[0]).toMatchObject({ msg: 'device fault', kind: 'exception', err: 'read holding 0..9 (unit 1): exception 04 (server device failure)' });
  expect(w.slice(1).map((l) => l.msg)).toEqual(Array(4).fill('device still failing'));
  expect(w[1]).toMatchObject({ kind: 'exception', downMs: 60_000, failedPolls: 600, faults: { exception: 6001 } });
  expect(state.faulty).toBe(true);
});

it('each kind seen during an outage is logged once, even when kinds alternate at every poll', () => {
  const { state, warnings, advance } = setup();
  for (let poll = 0; poll < 50; poll += 1) {
    state.fault(poll % 2 === 0 ? 'timeout' : 'connection', new Error(`attempt ${poll}`));
    state.pollFailed();
    advance(1000);
  }
  expect(warnings().map((l) => [l.msg, l.kind, l.previous])).toEqual([
    ['device fault', 'timeout', undefined],
    ['device fault changed', 'connection', 'timeout'],
  ]);
});

it('recovery is one line with how long the device was down and how many polls failed', () => {
  const { state, lines, advance } = setup();
  state.fault('timeout', new Error('no answer'));
  state.pollFailed();
  advance(4000);
  state.fault('timeout', new Error('no answer'));
  state.pollFailed();
  advance(1000);
  state.recovered();
  state.recovered();
  const info = lines.filter((l) => l.msg === 'device recovered');
  expect(info).toEqual([expect.objectContaining({ level: 30, downMs: 5000, failedPolls: 2, faults: { timeout: 2 }, lastErr: 'no answer' })]);
  expect(state.faulty).toBe(false);
  // A new outage a minute after the last warning starts over: warned again.
  advance(55_000);
  state.fault('timeout', new Error('no answer'));
  expect(lines.filter((l) => l.msg === 'device fault')).toHaveLength(2);
});

it('variable details kept in the cause are logged as a separate field', () => {
  const { state, lines } = setup();
  state.fault('protocol', new DeviceError('protocol', 'read holding 0..9 (unit 1): malformed answer', { cause: new Error('Data length error, expected 25 got 13') }));
  expect(lines[0]).toMatchObject({ err: 'read holding 0..9 (unit 1): malformed answer', detail: 'Data length error, expected 25 got 13' });
});

it('a device failing every other poll logs a warning and a recovery about once a minute, not every poll', () => {
  const { state, lines, advance } = setup();
  for (let poll = 0; poll < 600; poll += 1) {
    if (poll % 2 === 0) {
      state.fault('timeout', new Error('no answer'));
      state.pollFailed();
    } else {
      state.recovered();
    }
    advance(500);
  }
  const logged = lines.filter((l) => l.level >= 30);
  // 300 outages in 5 minutes.
  expect(logged.filter((l) => l.msg === 'device fault')).toHaveLength(5);
  expect(logged.filter((l) => l.msg === 'device recovered')).toHaveLength(5);
  expect(logged).toHaveLength(10);
  // The quiet ones are counted in the next warning.
  expect(logged.find((l) => l.msg === 'device fault' && l.flaps !== undefined)).toMatchObject({ flaps: 59 });
  expect(lines.filter((l) => l.msg === 'device fault (again)')).toHaveLength(295);
});

it('a quiet outage that lasts is summarised like any other, and its recovery is logged', () => {
  const { state, lines, advance } = setup();
  state.fault('timeout', new Error('no answer'));
  advance(1000);
  state.recovered();
  advance(1000);
  state.fault('timeout', new Error('no answer'));
  expect(lines.filter((l) => l.level >= 40)).toHaveLength(1);
  advance(60_000);
  state.fault('timeout', new Error('no answer'));
  expect(lines.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual(['device fault', 'device still failing']);
  state.recovered();
  expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'device recovered', downMs: 60_000 });
});
