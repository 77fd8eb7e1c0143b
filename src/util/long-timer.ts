// setTimeout for delays of any length. Node stores a delay in a signed 32-bit field: anything
// above 2^31-1 ms (about 24.8 days) becomes 1 ms, so a daily meter read set to `interval: 30d`
// turned into a busy poll. A long delay here is a chain of shorter timers.

/** The longest delay one Node timer honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  /** Cancels the timer; safe to call more than once and after it fired. */
  clear(): void;
  /** Like Timeout.unref(): the timer alone does not keep the process alive. */
  unref(): LongTimer;
}

/** Calls `fn` once after `ms` milliseconds (NaN and negatives: at once; Infinity: never). */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  let remaining = Number.isNaN(ms) ? 0 : Math.max(0, ms);
  let referenced = true;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const step = Math.min(remaining, MAX_TIMER_MS);
    remaining -= step;
    timer = setTimeout(() => {
      if (remaining > 0) arm();
      else {
        timer = undefined;
        fn();
      }
    }, step);
    if (!referenced) timer.unref();
  };
  arm();
  const handle: LongTimer = {
    clear() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      remaining = 0;
    },
    unref() {
      referenced = false;
      timer?.unref();
      return handle;
    },
  };
  return handle;
}
