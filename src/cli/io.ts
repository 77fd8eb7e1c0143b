import type { Writable } from 'node:stream';

/** What a command may touch of the process; main.ts supplies the real ones, tests their own. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); `force` on the second signal. */
  signals?: CliSignals;
}

export interface CliSignals {
  /**
   * A stop request: SIGTERM, SIGINT, or the output closed under us (`fieldgate run | head -1`),
   * which a Unix tool answers by stopping, as SIGPIPE would make it.
   */
  onStop(handler: (signal: string) => void): void;
  onReload(handler: () => void): void;
  /** Exit now, without cleanup (second signal while stopping). Only main.ts implements this. */
  forceExit(code: number): void;
}

export function println(stream: Writable, text = ''): void {
  // Nothing more can reach a reader that left; writing on would only raise more EPIPE errors.
  if (outputClosed(stream)) return;
  stream.write(text + '\n');
}

/**
 * True once a write failed (EPIPE: the reader closed the pipe) or the stream was closed. Set at
 * the failing write itself, so a loop producing output can stop at its next row.
 */
export function outputClosed(stream: Writable): boolean {
  return stream.destroyed || stream.writableEnded || stream.errored !== null;
}

/** An error that only says the reader of our output went away. */
export function isClosedOutput(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ECONNRESET' || code === 'ERR_STREAM_WRITE_AFTER_END';
}
