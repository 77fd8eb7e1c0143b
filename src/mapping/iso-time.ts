// ISO 8601 text of epoch milliseconds, exactly as Date.prototype.toISOString gives it, for the
// timestamp every poll formats. toISOString works the calendar date out afresh at each call, a
// visible cost at one call per poll of a batch device; within one hour only the minutes, seconds
// and milliseconds change, so the date and hour are formatted once per hour and the rest is
// arithmetic. Anything unusual (outside years 0000–9999, a fraction of a millisecond, NaN) goes
// to toISOString itself.

const HOUR_MS = 3_600_000;
/** 0000-01-01T00:00:00.000Z and 10000-01-01T00:00:00.000Z: toISOString writes ±YYYYYY beyond. */
const FIRST_MS = -62_167_219_200_000;
const END_MS = 253_402_300_800_000;

export class IsoTimeFormatter {
  private hourStart = Number.NaN;
  /** "YYYY-MM-DDTHH:" of hourStart. */
  private prefix = '';
  private lastTs = Number.NaN;
  private lastText = '';

  format(ts: number): string {
    if (ts === this.lastTs) return this.lastText;
    let text: string;
    if (ts >= FIRST_MS && ts < END_MS && Number.isInteger(ts)) {
      const hour = Math.floor(ts / HOUR_MS) * HOUR_MS;
      if (hour !== this.hourStart) {
        this.hourStart = hour;
        this.prefix = new Date(hour).toISOString().slice(0, 14);
      }
      const inHour = ts - hour;
      text = `${this.prefix}${two(Math.floor(inHour / 60_000))}:${two(Math.floor(inHour / 1000) % 60)}.${three(inHour % 1000)}Z`;
    } else {
      text = new Date(ts).toISOString();
    }
    this.lastTs = ts;
    this.lastText = text;
    return text;
  }
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function three(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n);
}
