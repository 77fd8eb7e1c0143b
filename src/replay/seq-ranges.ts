// Collects seqs, arriving in ascending order, into closed ranges [[from, to], ...]: the form a
// replay result names what it could not send.
export type SeqRange = [number, number];

export class SeqRanges {
  private readonly ranges: SeqRange[] = [];

  /** Adds from..to (ascending, after everything added so far); empty spans are ignored. */
  add(from: number, to: number): void {
    if (to < from) return;
    const last = this.ranges.at(-1);
    if (last && last[1] + 1 >= from) last[1] = Math.max(last[1], to);
    else this.ranges.push([from, to]);
  }

  get list(): SeqRange[] {
    return this.ranges.map(([a, b]) => [a, b]);
  }

  /** How many seqs the ranges hold. */
  get count(): number {
    return this.ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
  }
}
