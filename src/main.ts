// Process entry: the only place that touches process signals and calls process.exit.
// Signal handlers come first, before the program (and its native modules) is loaded, so a signal
// sent while the daemon starts is never lost or fatal (process-signals.ts).
import { ProcessSignals } from './cli/process-signals.js';
import { isClosedOutput } from './cli/io.js';
import { installQuietDebug } from './util/quiet-debug.js';

const argv = process.argv.slice(2);
const signals = new ProcessSignals(process, argv[0] === 'run' ? 'hold' : 'default');
signals.install();

// `fieldgate … | head -1`: the reader left. Node reports that as an 'error' event on the stream
// (it ignores SIGPIPE), which would crash the process with a stack trace. A command stops
// quietly instead: finite commands finish without output (println skips a closed stream, export
// stops reading), long-running ones (run, demo) get one stop request.
let outputGone = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: unknown) => {
    if (!isClosedOutput(err)) throw err;
    if (outputGone) return;
    outputGone = true;
    signals.requestStop('output closed');
  });
}

process.on('unhandledRejection', (reason) => {
  // A bug, not an expected failure: report it loudly, but a gateway keeps its journal safe by
  // exiting (systemd restarts it) rather than running on in an unknown state.
  console.error('fieldgate: unhandled rejection:', reason);
  process.exit(70);
});

// Before the CLI loads mqtt.js and the drivers: their `debug` loggers cost CPU even when silent.
installQuietDebug(process.env);
const { runCli } = await import('./cli.js');

runCli(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, signals }).then(
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
