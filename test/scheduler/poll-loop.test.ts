import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PollLoop } from '../../src/scheduler/poll-loop.js';

const clock = { now: () => Date.now() };
const T0 = 1_800_000_000_000;

/** A run() whose duration the test sets per call; records when each run started. */
function recorder(durations: (i: number) => number = () => 0, fail: (i: number) => boolean = () => false) {
  const starts: number[] = [];
  const run = vi.fn(async () => {
    const i = starts.length;
    starts.push(Date.now() - T0);
    const ms = durations(i);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    if (fail(i)) throw new Error(`run ${i} failed`);
  });
  return { starts, run };
}

/** Stops the loop while letting fake time run, so a poll in progress can finish. */
async function stopLoop(loop: PollLoop): Promise<void> {
  const stopping = loop.stop();
  await vi.advanceTimersByTimeAsync(10_000);
  await stopping;
}

describe('PollLoop', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs at once on start, then at a fixed cadence of start + k × interval', async () => {
    const { starts, run } = recorder(() => 30);
    const loop = new PollLoop({ intervalMs: 100, clock, run });
    loop.start();
    await vi.advanceTimersByTimeAsync(450);
    await stopLoop(loop);
    // The 30 ms a run takes does not shift the schedule.
    expect(starts).toEqual([0, 100, 200, 300, 400]);
  });

  it('an interval past Node\'s 24.8-day timer limit polls on time, and stop() cancels that timer too', async () => {
    const DAY = 86_400_000;
    const { starts, run } = recorder();
    const silence = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const loop = new PollLoop({ intervalMs: 30 * DAY, clock, run });
    loop.start();
    await vi.advanceTimersByTimeAsync(30 * DAY - 1);
    expect(starts).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([0, 30 * DAY]);
    await loop.stop();
    await vi.advanceTimersByTimeAsync(90 * DAY);
    expect(starts).toEqual([0, 30 * DAY]);
    expect(silence).not.toHaveBeenCalled();
    silence.mockRestore();
  });

  it('stop() cancels the armed timer of a short interval', async () => {
    const { starts, run } = recorder();
    const loop = new PollLoop({ intervalMs: 100, clock, run });
    loop.start();
    await vi.advanceTimersByTimeAsync(150);
    await loop.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(starts).toEqual([0, 100]);
  });

  it('does not run before start', async () => {
    const { run } = recorder();
    new PollLoop({ intervalMs: 100, clock, run });
    await vi.advanceTimersByTimeAsync(1000);
    expect(run).not.toHaveBeenCalled();
  });

  it.each([
    // [run durations, expected start times, expected skipped counts reported after each run]
    ['one overrun by half an interval skips one tick', [150, 0, 0], [0, 200, 300], [1, 0, 0]],
    ['an overrun of 3.5 intervals skips three ticks', [350, 0, 0], [0, 400, 500], [3, 0, 0]],
    ['overruns in a row', [250, 120, 0], [0, 300, 500], [2, 1, 0]],
    ['just inside the interval skips nothing', [99, 99, 0], [0, 100, 200], [0, 0, 0]],
  ])('%s', async (_name, durations, expectedStarts, expectedSkips) => {
    const { starts, run } = recorder((i) => durations[i] ?? 0);
    const skips: number[] = [];
    const loop = new PollLoop({ intervalMs: 100, clock, run, onTick: (s) => skips.push(s) });
    loop.start();
    await vi.advanceTimersByTimeAsync(expectedStarts.at(-1)! + 1);
    await stopLoop(loop);
    expect(starts).toEqual(expectedStarts);
    expect(skips).toEqual(expectedSkips);
  });

  it('never runs two polls at once', async () => {
    let running = 0;
    let most = 0;
    const run = async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 275));
      running -= 1;
    };
    const loop = new PollLoop({ intervalMs: 100, clock, run });
    loop.start();
    await vi.advanceTimersByTimeAsync(2000);
    await stopLoop(loop);
    expect(most).toBe(1);
  });

  it('a rejecting run does not stop the loop', async () => {
    const { starts, run } = recorder(() => 10, (i) => i % 2 === 0);
    const ticks: number[] = [];
    const loop = new PollLoop({ intervalMs: 100, clock, run, onTick: (s) => ticks.push(s) });
    loop.start();
    await vi.advanceTimersByTimeAsync(350);
    await stopLoop(loop);
    expect(starts).toEqual([0, 100, 200, 300]);
    expect(ticks).toEqual([0, 0, 0, 0]);
  });

  it('stop waits for the running poll and then no further poll starts', async () => {
    let finished = false;
    const run = vi.fn(async () => {
      await new Promise((r) => setTimeout(r, 50));
      finished = true;
    });
    const loop = new PollLoop({ intervalMs: 100, clock, run });
    loop.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(run).toHaveBeenCalledTimes(1);
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(20);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(30);
    await stopping;
    expect(finished).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(run).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stop between polls cancels the pending tick at once', async () => {
    const { run } = recorder();
    const loop = new PollLoop({ intervalMs: 100, clock, run });
    loop.start();
    await vi.advanceTimersByTimeAsync(50);
    await loop.stop(); // resolves without time passing: nothing is running
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('stop before the first tick runs nothing', async () => {
    const { run } = recorder();
    const loop = new PollLoop({ intervalMs: 100, clock, run });
    loop.start();
    await loop.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(run).not.toHaveBeenCalled();
  });

  it('can be started again after stop, on a fresh schedule', async () => {
    const { starts, run } = recorder();
    const loop = new PollLoop({ intervalMs: 100, clock, run });
    loop.start();
    await vi.advanceTimersByTimeAsync(150);
    await loop.stop();
    await vi.advanceTimersByTimeAsync(1000); // now T0 + 1150
    loop.start();
    await vi.advanceTimersByTimeAsync(150);
    await loop.stop();
    expect(starts).toEqual([0, 100, 1150, 1250]);
  });

  it('holds its cadence over many intervals (no drift)', async () => {
    const { starts, run } = recorder(() => 7);
    const loop = new PollLoop({ intervalMs: 1000, clock, run });
    loop.start();
    await vi.advanceTimersByTimeAsync(600_000 + 500);
    await loop.stop();
    expect(starts).toHaveLength(601);
    expect(starts.at(-1)).toBe(600_000);
    expect(starts.every((t, i) => t === i * 1000)).toBe(true);
  });

  it('waits a whole interval beyond the 24.8-day timer limit instead of spinning', async () => {
    const DAY = 86_400_000;
    const { starts, run } = recorder();
    const loop = new PollLoop({ intervalMs: 30 * DAY, clock, run });
    loop.start();
    await vi.advanceTimersByTimeAsync(29 * DAY);
    expect(starts).toEqual([0]);
    await vi.advanceTimersByTimeAsync(61 * DAY + 1000);
    await loop.stop();
    expect(starts).toEqual([0, 30 * DAY, 60 * DAY, 90 * DAY]);
  });
});
