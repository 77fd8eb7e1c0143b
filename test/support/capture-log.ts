// A log destination that keeps what is written, for tests of what the logger puts in a line.
import { Writable } from 'node:stream';

export interface CapturedLog {
  destination: Writable;
  text: () => string;
  /** Every line written, parsed. */
  lines: () => Record<string, unknown>[];
}

export function captureLog(): CapturedLog {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return {
    destination,
    text: () => text,
    lines: () => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
