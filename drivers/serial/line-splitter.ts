// Cutting a byte stream into lines. The pure core (splitChunk) takes the state left by the last
// chunk and returns the new state; LineSplitter only keeps that state between calls.
//
// Rules:
// - a line is the bytes before a delimiter (which may be several bytes and may arrive split across
//   chunks); the delimiter itself is not part of the line;
// - a line longer than maxLine bytes is dropped and counted as one overflow, whether its delimiter
//   has arrived or not; after an overflow without a delimiter, bytes are discarded up to and
//   including the next delimiter, so the next line starts clean;
// - the pending partial line never holds more than maxLine bytes (memory stays bounded on a line
//   that never ends).

export interface SplitterState {
  /** Bytes of the line in progress (while discarding: only a possible start of the delimiter). */
  pending: Buffer;
  /** True while skipping the rest of an oversized line. */
  discarding: boolean;
}

export interface SplitResult {
  state: SplitterState;
  lines: Buffer[];
  overflows: number;
}

export const EMPTY_STATE: SplitterState = Object.freeze({ pending: Buffer.alloc(0), discarding: false });

export function splitChunk(state: SplitterState, chunk: Buffer, delimiter: Buffer, maxLine: number): SplitResult {
  if (delimiter.length === 0) throw new RangeError('empty delimiter');
  const buf = state.pending.length === 0 ? chunk : Buffer.concat([state.pending, chunk]);
  const lines: Buffer[] = [];
  let overflows = 0;
  let discarding = state.discarding;
  let pos = 0;
  // Nothing before this offset can start a delimiter: it was searched with the previous chunk.
  let from = Math.max(0, state.pending.length - delimiter.length + 1);
  for (;;) {
    const idx = buf.indexOf(delimiter, from);
    if (idx < 0) break;
    if (discarding) {
      discarding = false;
    } else if (idx - pos > maxLine) {
      overflows += 1;
    } else {
      lines.push(Buffer.from(buf.subarray(pos, idx)));
    }
    pos = idx + delimiter.length;
    from = pos;
  }
  let rest = buf.subarray(pos);
  if (!discarding && rest.length > maxLine) {
    overflows += 1;
    discarding = true;
  }
  if (discarding) {
    // Keep just enough to recognise a delimiter that straddles this chunk and the next.
    rest = rest.subarray(Math.max(0, rest.length - (delimiter.length - 1)));
  }
  return { state: { pending: Buffer.from(rest), discarding }, lines, overflows };
}

export class LineSplitter {
  private state: SplitterState = EMPTY_STATE;

  constructor(
    private readonly delimiter: Buffer,
    private readonly maxLine: number,
  ) {}

  push(chunk: Buffer): { lines: Buffer[]; overflows: number } {
    const result = splitChunk(this.state, chunk, this.delimiter, this.maxLine);
    this.state = result.state;
    return { lines: result.lines, overflows: result.overflows };
  }

  /**
   * Forgets the line in progress. 'skip_partial' also ignores everything up to the next delimiter
   * (used after opening a port, where the first bytes may be the tail of a line).
   */
  reset(mode: 'clean' | 'skip_partial' = 'clean'): void {
    this.state = mode === 'skip_partial' ? { pending: Buffer.alloc(0), discarding: true } : EMPTY_STATE;
  }

  /** Bytes of the unfinished line (for tests and diagnostics). */
  get pendingBytes(): number {
    return this.state.discarding ? 0 : this.state.pending.length;
  }
}
