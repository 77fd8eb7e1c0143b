import { describe, expect, it } from 'vitest';
import { SeqGaps, replayRequest } from '../../src/wire/seq-gaps.js';

describe('SeqGaps (reference consumer)', () => {
  it('reports a missing range once it has settled, once, and forgets seqs that arrived late', () => {
    const g = new SeqGaps(5);
    for (const s of [10, 11, 12, 20, 21]) g.accept(s);
    expect(g.takeGaps()).toEqual([[13, 16]]); // 17..19 may still be on their way
    g.accept(18); // late
    for (const s of [22, 23, 24, 25, 26, 30]) g.accept(s);
    expect(g.gaps).toEqual([[13, 17], [19, 19], [27, 29]]);
    expect(g.takeGaps()).toEqual([[17, 17], [19, 19]]);
    expect(g.takeGaps()).toEqual([]);
    g.accept(11); // a duplicate changes nothing
    expect(g.gaps).toEqual([[13, 17], [19, 19], [27, 29]]);
  });

  it('counts nothing before the first seq it sees, and builds the request', () => {
    const g = new SeqGaps(0);
    g.accept(1000);
    expect(g.takeGaps()).toEqual([]);
    expect(JSON.parse(replayRequest('r1', [3, 9]))).toEqual({ id: 'r1', from_seq: 3, to_seq: 9 });
  });
});
