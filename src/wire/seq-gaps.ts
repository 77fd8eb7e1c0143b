// The reference consumer's side of replay (docs/consumers.md, "Asking for a gap again"): notice
// which seqs never arrived, wait until they cannot merely be late, and ask the gateway for them
// on `{site}/{gateway}/cmd/replay`. Feed it every seq received from one gateway (after
// unpackMessage; duplicates are fine); it keeps missing seqs as ranges, so a long outage costs
// one entry, not one per reading.
export type SeqRange = [number, number];

export class SeqGaps {
  private highest: number | undefined;
  /** Missing seqs as ascending, disjoint ranges. */
  private missing: SeqRange[] = [];
  /** Ranges already asked for (not asked again by takeGaps). */
  private asked: SeqRange[] = [];

  /**
   * `settle`: how far below the highest seq a missing one must be before it counts as lost rather
   * than late. Rows arrive out of order by up to max_pack × inflight (see "De-duplicating by seq").
   */
  constructor(private readonly settle: number) {}

  /** Records a received seq. The first seq ever seen starts the count: nothing before it is missing. */
  accept(seq: number): void {
    if (this.highest === undefined) {
      this.highest = seq;
      return;
    }
    if (seq > this.highest + 1) this.missing.push([this.highest + 1, seq - 1]);
    if (seq > this.highest) {
      this.highest = seq;
      return;
    }
    this.missing = this.missing.flatMap(([a, b]): SeqRange[] => {
      if (seq < a || seq > b) return [[a, b]];
      return [[a, seq - 1], [seq + 1, b]].filter(([x, y]) => x! <= y!) as SeqRange[];
    });
  }

  /** Missing ranges that have settled and were not asked for yet; they count as asked from now on. */
  takeGaps(): SeqRange[] {
    if (this.highest === undefined) return [];
    const limit = this.highest - this.settle;
    const due = this.missing
      .map(([a, b]): SeqRange => [a, Math.min(b, limit)])
      .filter(([a, b]) => a <= b)
      .flatMap((r) => subtract(r, this.asked));
    for (const r of due) this.asked.push(r);
    return due;
  }

  /** Seqs still missing (asked for or not). */
  get gaps(): SeqRange[] {
    return this.missing.map(([a, b]) => [a, b]);
  }
}

/** The request that asks for `range` again (publish it, not retained, to `{site}/{gateway}/cmd/replay`). */
export function replayRequest(id: string, [from, to]: SeqRange): string {
  return JSON.stringify({ id, from_seq: from, to_seq: to });
}

function subtract(range: SeqRange, taken: readonly SeqRange[]): SeqRange[] {
  let parts: SeqRange[] = [range];
  for (const [x, y] of taken) {
    parts = parts.flatMap(([a, b]): SeqRange[] => {
      if (y < a || x > b) return [[a, b]];
      const out: SeqRange[] = [];
      if (a < x) out.push([a, x - 1]);
      if (b > y) out.push([y + 1, b]);
      return out;
    });
  }
  return parts;
}
