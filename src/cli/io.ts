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
  onStop(handler: (signal: string) => void): void;
  onReload(handler: () => void): void;
  /** Exit now, without cleanup (second signal while stopping). Only main.ts implements this. */
  forceExit(code: number): void;
}

export function println(stream: Writable, text = ''): void {
  stream.write(text + '\n');
}
