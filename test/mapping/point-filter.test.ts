import { describe, expect, it } from 'vitest';
import type { Scalar } from '../../src/driver-api/index.js';
import { PointFilter, type FilterSettings } from '../../src/mapping/point-filter.js';

/** One reading fed to the filter (value, quality, error, time), whether it is forced, and the expected answer. */
type Step = { value?: Scalar | null; bad?: boolean; error?: string; ts?: number; force?: boolean; expect: boolean };

/** Feeds the steps in order; ts defaults to 1 s apart so heartbeats only fire when a case asks. */
function run(settings: FilterSettings, steps: Step[]): boolean[] {
  const filter = new PointFilter(settings);
  return steps.map((s, i) =>
    filter.accept(s.value === undefined ? 0 : s.value, s.bad ?? false, s.error, s.ts ?? 1000 * (i + 1), s.force ?? false),
  );
}

const good = (value: Scalar | null, expect: boolean, extra: Partial<Step> = {}): Step => ({ value, expect, ...extra });
const bad = (error: string | undefined, expect: boolean, extra: Partial<Step> = {}): Step => ({
  value: null, bad: true, error, expect, ...extra,
});

const CASES: Array<[string, FilterSettings, Step[]]> = [
  ['first reading always goes out, even inside any deadband', { deadband: 1e9 }, [good(5, true)]],
  ['first bad reading goes out', { deadband: 1 }, [bad('timeout', true)]],
  ['no deadband: every reading, repeated values too', {}, [good(1, true), good(1, true), good(1, true)]],
  [
    'numeric deadband: small moves suppressed, measured from the last published value',
    { deadband: 0.5 },
    // 20 → 20.2 → 20.4 stay within 0.5 of 20; 20.6 leaves it; then measured from 20.6.
    [good(20, true), good(20.2, false), good(20.4, false), good(20.6, true), good(20.3, false), good(20, true)],
  ],
  ['numeric deadband works downwards too', { deadband: 2 }, [good(10, true), good(9, false), good(7, true)]],
  [
    'bigint deadband',
    { deadband: 1000 },
    [good(2n ** 60n, true), good(2n ** 60n + 999n, false), good(2n ** 60n + 1500n, true), good(2n ** 60n + 600n, false), good(2n ** 60n, true)],
  ],
  [
    'non-numeric values with a deadband: published on change only',
    { deadband: 1 },
    [good('auto', true), good('auto', false), good('manual', true), good(true, true), good(true, false), good(false, true)],
  ],
  ['a type change (number → bigint) counts as a change', { deadband: 100 }, [good(5, true), good(5n, true)]],
  [
    'heartbeat: an unchanged value is repeated once heartbeat has passed since the last publish',
    { deadband: 1, heartbeatMs: 5000 },
    [
      good(1, true, { ts: 0 }),
      good(1, false, { ts: 4999 }),
      good(1, true, { ts: 5000 }),
      good(1, false, { ts: 9000 }),
      good(1, true, { ts: 10_000 }),
    ],
  ],
  [
    'a deadband publish restarts the heartbeat',
    { deadband: 1, heartbeatMs: 5000 },
    [good(1, true, { ts: 0 }), good(3, true, { ts: 3000 }), good(3, false, { ts: 7000 }), good(3, true, { ts: 8000 })],
  ],
  [
    'quality change good → bad → good is always published',
    { deadband: 100 },
    [good(1, true), bad('timeout', true), good(1, true), good(1, false)],
  ],
  [
    'a repeated identical fault is suppressed',
    { deadband: 1 },
    [bad('timeout', true), bad('timeout', false), bad('timeout', false)],
  ],
  [
    'a repeated identical fault is suppressed even without a deadband',
    {},
    [bad('timeout', true), bad('timeout', false)],
  ],
  [
    'a change of error text is published, at most once a minute while the point stays bad',
    {},
    [
      bad('timeout', true, { ts: 0 }),
      bad('timeout', false, { ts: 1000 }),
      bad('CRC error', false, { ts: 30_000 }),
      bad('CRC error', true, { ts: 60_000 }),
      bad('CRC error', false, { ts: 61_000 }),
      bad('timeout', false, { ts: 62_000 }),
      bad('timeout', true, { ts: 120_000 }),
    ],
  ],
  [
    // The class of defect: a text that carries a delay or a counter differs at every poll.
    'an error text that varies at every poll is published once a minute, not once a poll',
    {},
    Array.from({ length: 150 }, (_, i) => bad(`not connected; retry in ${500 + i}ms`, i % 60 === 0, { ts: i * 1000 })),
  ],
  [
    'a heartbeat shorter than that carries the current text',
    { heartbeatMs: 10_000 },
    [bad('timeout', true, { ts: 0 }), bad('CRC error', false, { ts: 5000 }), bad('CRC error', true, { ts: 10_000 })],
  ],
  [
    'a fault with no text after one with text is a change',
    {},
    [bad('timeout', true, { ts: 0 }), bad(undefined, true, { ts: 60_000 }), bad(undefined, false, { ts: 120_000 })],
  ],
  ['turning bad is published at once, however recently the point was published', {}, [good(1, true, { ts: 0 }), bad('x', true, { ts: 1 })]],
  [
    'a persisting fault is repeated at the heartbeat',
    { heartbeatMs: 10_000 },
    [bad('timeout', true, { ts: 0 }), bad('timeout', false, { ts: 9999 }), bad('timeout', true, { ts: 10_000 })],
  ],
  [
    'force publishes inside the deadband and becomes the new reference',
    { deadband: 1 },
    [good(10, true), good(10.2, true, { force: true }), good(11, false), good(11.2, true)],
  ],
  ['force publishes a repeated fault', {}, [bad('timeout', true), bad('timeout', true, { force: true })]],
];

describe('PointFilter', () => {
  it.each(CASES)('%s', (_name, settings, steps) => {
    expect(run(settings, steps)).toEqual(steps.map((s) => s.expect));
  });

  it('a rejected reading does not move the reference (no creeping past the deadband)', () => {
    // Steps of 0.3 would cross a deadband of 1 if each were compared with the previous reading.
    const values = [0, 0.3, 0.6, 0.9, 1.2, 1.5];
    const filter = new PointFilter({ deadband: 1 });
    const out = values.map((v, i) => filter.accept(v, false, undefined, i));
    expect(out).toEqual([true, false, false, false, true, false]);
  });
});

describe('heartbeat without a deadband', () => {
  it('publishes on change and at least every heartbeat, not every reading', async () => {
    const { PointFilter } = await import('../../src/mapping/point-filter.js');
    const f = new PointFilter({ heartbeatMs: 1000 });
    const r = (value: number | string, ts: number) => f.accept(value, false, undefined, ts);
    expect(r('FG-EM340', 0)).toBe(true);
    expect(r('FG-EM340', 100)).toBe(false);
    expect(r('FG-EM341', 200)).toBe(true);
    expect(r('FG-EM341', 900)).toBe(false);
    expect(r('FG-EM341', 1200)).toBe(true);
    expect(r(5, 1300)).toBe(true);
    expect(r(5, 1400)).toBe(false);
  });
});
