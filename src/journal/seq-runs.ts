// Ascending, distinct seqs as runs of consecutive ones: [3,4,5,9] → [3..5], [9..9]. Long runs are
// written to the journal as one range statement, short ones row by row.
export interface SeqRun {
  lo: number;
  hi: number;
}

export function seqRuns(sorted: readonly number[]): SeqRun[] {
  const runs: SeqRun[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[j - 1]! + 1) j += 1;
    runs.push({ lo: sorted[i]!, hi: sorted[j - 1]! });
    i = j;
  }
  return runs;
}
