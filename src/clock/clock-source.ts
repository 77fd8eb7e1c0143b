// What the gateway asks about time, as one injectable interface: whether the system clock is
// synchronized, the wall and monotonic clocks, and which boot this is. A Raspberry Pi has no
// real-time clock: after a power cut it boots with a stale wall time, and until NTP reaches a
// server the readings' times are wrong. The monotonic clock (CLOCK_MONOTONIC, since boot) is
// right all along, within one boot; the boot id says whether two monotonic times can be compared.
import fs from 'node:fs';

export interface ClockSource {
  /** true / false when the system says; undefined when it cannot tell (then taken as synchronized). */
  synchronized(): boolean | undefined;
  /** Wall clock, epoch ms. */
  wallMs(): number;
  /** Monotonic clock, ms since boot; comparable only within one boot. */
  monotonicMs(): number;
  /** Changes with every boot. */
  bootId(): string;
}

export interface SystemClockPaths {
  /** systemd-timesyncd creates this file once it synchronized the clock (and removes it at boot). */
  timesyncFlag: string;
  bootId: string;
}

export const SYSTEM_CLOCK_PATHS: SystemClockPaths = {
  timesyncFlag: '/run/systemd/timesync/synchronized',
  bootId: '/proc/sys/kernel/random/boot_id',
};

export class SystemClockSource implements ClockSource {
  private boot: string | undefined;

  constructor(private readonly paths: SystemClockPaths = SYSTEM_CLOCK_PATHS) {}

  synchronized(): boolean | undefined {
    if (fs.existsSync(this.paths.timesyncFlag)) return true;
    // timesyncd runs (its state directory exists) but has not synchronized yet. Without
    // timesyncd (chrony, ntpd, a container) Node has no portable way to read the kernel's
    // unsynchronized flag, so the answer is "unknown".
    return fs.existsSync(parentOf(this.paths.timesyncFlag)) ? false : undefined;
  }

  wallMs(): number {
    return Date.now();
  }

  monotonicMs(): number {
    // libuv's hrtime is CLOCK_MONOTONIC: time since boot, the same in every process of the boot.
    return Number(process.hrtime.bigint() / 1_000_000n);
  }

  bootId(): string {
    if (this.boot === undefined) {
      try {
        this.boot = fs.readFileSync(this.paths.bootId, 'utf8').trim();
      } catch {
        this.boot = 'unknown';
      }
    }
    return this.boot;
  }
}

function parentOf(file: string): string {
  return file.slice(0, Math.max(0, file.lastIndexOf('/'))) || '/';
}
