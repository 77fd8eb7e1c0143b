// Process entry: the only place that touches process signals and calls process.exit.
import { runCli } from './cli.js';
import { isClosedOutput, type CliIo, type CliSignals } from './cli/io.js';

/** The real process behind CliIo; its state lives in this closure, not in the module. */
function processIo(): CliIo {
  const stopHandlers: ((signal: string) => void)[] = [];
  let outputGone = false;
  const signals: CliSignals = {
    onStop(handler) {
      stopHandlers.push(handler);
      if (outputGone) queueMicrotask(() => handler('output closed'));
      process.on('SIGTERM', () => handler('SIGTERM'));
      process.on('SIGINT', () => handler('SIGINT'));
    },
    onReload(handler) {
      process.on('SIGHUP', handler);
    },
    forceExit(code) {
      process.exit(code);
    },
  };
  // `fieldgate … | head -1`: the reader left. Node reports that as an 'error' event on the stream
  // (it ignores SIGPIPE), which would crash the process with a stack trace. A command stops
  // quietly instead: finite commands finish without output (println skips a closed stream,
  // export stops reading), long-running ones (run, demo) get one stop request.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: unknown) => {
      if (!isClosedOutput(err)) throw err;
      if (outputGone) return;
      outputGone = true;
      for (const handler of stopHandlers) handler('output closed');
    });
  }
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, signals };
}

process.on('unhandledRejection', (reason) => {
  // A bug, not an expected failure: report it loudly, but a gateway keeps its journal safe by
  // exiting (systemd restarts it) rather than running on in an unknown state.
  console.error('fieldgate: unhandled rejection:', reason);
  process.exit(70);
});

runCli(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
    // Stray handles (a socket closing slowly) must not keep a stopped daemon alive; the timer is
    // unref'd, so a process with nothing left to do exits at once without waiting for it.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err: unknown) => {
    // Bad input is reported by runCli as a message and an exit code; what arrives here is a bug.
    console.error('fieldgate:', err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(70);
  },
);
