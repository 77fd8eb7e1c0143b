// Signal handling that exists from the first line of the process. Loading the program takes a
// while on a Pi (hundreds of milliseconds), and a signal that arrives before anyone listens has its
// default effect: SIGHUP (systemctl reload, sent early) would kill the daemon silently. So the
// handlers are installed before anything else is loaded, and a signal that arrives before its
// handler is registered is held and delivered on registration.
//
// `hold` (the daemon): early signals wait for their handler. `default` (one-shot commands): a
// signal nobody asked for ends the process as the default action would (exit 128 + number).
import type { CliSignals } from './io.js';

type StopSignal = 'SIGTERM' | 'SIGINT';
const NUMBERS: Record<StopSignal | 'SIGHUP', number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

export interface SignalProcess {
  on(signal: 'SIGHUP' | StopSignal, listener: () => void): unknown;
  exit(code: number): never;
}

export class ProcessSignals implements CliSignals {
  private stopHandler: ((signal: string) => void) | undefined;
  private reloadHandler: (() => void) | undefined;
  private heldStops: string[] = [];
  private heldReloads = 0;

  constructor(
    private readonly proc: SignalProcess,
    private readonly early: 'hold' | 'default',
  ) {}

  install(): void {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) this.proc.on(sig, () => this.stop(sig));
    this.proc.on('SIGHUP', () => this.reload());
  }

  onStop(handler: (signal: string) => void): void {
    this.stopHandler = handler;
    for (const sig of this.heldStops.splice(0)) handler(sig);
  }

  onReload(handler: () => void): void {
    this.reloadHandler = handler;
    // Several early reloads read the same file: one is enough.
    if (this.heldReloads > 0) {
      this.heldReloads = 0;
      handler();
    }
  }

  /**
   * A stop asked for by the program itself (its output was closed): delivered like a signal, and
   * held until a stop handler exists whatever the mode (a one-shot command simply finishes).
   */
  requestStop(reason: string): void {
    if (this.stopHandler) this.stopHandler(reason);
    else this.heldStops.push(reason);
  }

  forceExit(code: number): void {
    this.proc.exit(code);
  }

  private stop(sig: StopSignal): void {
    if (this.stopHandler) this.stopHandler(sig);
    else if (this.early === 'hold') this.heldStops.push(sig);
    else this.proc.exit(128 + NUMBERS[sig]);
  }

  private reload(): void {
    if (this.reloadHandler) this.reloadHandler();
    else if (this.early === 'hold') this.heldReloads += 1;
    else this.proc.exit(128 + NUMBERS.SIGHUP);
  }
}
