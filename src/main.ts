// Process entry: the only place that touches process signals and calls process.exit.
import { runCli } from './cli.js';
import type { CliSignals } from './cli/io.js';

const signals: CliSignals = {
  onStop(handler) {
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

process.on('unhandledRejection', (reason) => {
  // A bug, not an expected failure: report it loudly, but a gateway keeps its journal safe by
  // exiting (systemd restarts it) rather than running on in an unknown state.
  console.error('fieldgate: unhandled rejection:', reason);
  process.exit(70);
});

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signals }).then(
  (code) => {
    process.exitCode = code;
    // Stray handles (a socket closing slowly) must not keep a stopped daemon alive; the timer is
    // unref'd, so a process with nothing left to do exits at once without waiting for it.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err: unknown) => {
    console.error('fieldgate:', err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(70);
  },
);
