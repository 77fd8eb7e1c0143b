// pino logger with two layers of secret hygiene: the values of secret keys (isSecretKey) are
// redacted, and any secret value (passwords from the site file or the environment) is masked
// wherever it appears in a line.
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';
import { redactSecretKeys } from './redact-secret-keys.js';

const CENSOR = '[redacted]';

export const LOG_LEVELS: readonly LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * The secret values a logger masks. Grows while the process runs: a reloaded site file may
 * bring new ones, and they must be known before anything about that file is logged.
 */
export class LogSecrets {
  // JSON-escaped (as they appear inside a log line), longest first.
  private escaped: string[] = [];

  constructor(initial: readonly string[] = []) {
    this.add(initial);
  }

  add(secrets: readonly string[]): void {
    const fresh = secrets.filter((s) => s.length >= MIN_MASKED_LENGTH).map((s) => JSON.stringify(s).slice(1, -1));
    if (fresh.length === 0) return;
    this.escaped = [...new Set([...this.escaped, ...fresh])].sort((a, b) => b.length - a.length);
  }

  /** A JSON log line with every known secret replaced. */
  mask(line: string): string {
    let out = line;
    for (const s of this.escaped) if (out.includes(s)) out = out.split(s).join(CENSOR);
    return out;
  }
}

// Shorter values would mask unrelated text; such passwords still never reach a log by key path.
const MIN_MASKED_LENGTH = 3;

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Secret values to mask; pass a LogSecrets to add more later (reload). */
  secrets?: readonly string[] | LogSecrets;
  destination?: DestinationStream;
  name?: string;
  /**
   * Called once when the default destination (stdout) can no longer be written, e.g. the reader
   * of a pipe left. Lines after that are dropped; without this option that happens silently.
   */
  onOutputClosed?: () => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = options.secrets instanceof LogSecrets ? options.secrets : new LogSecrets(options.secrets ?? []);
  const logger = pino(
    {
      name: options.name ?? 'fieldgate',
      level: options.level ?? 'info',
      // The values of keys isSecretKey names, in every logged object.
      formatters: { log: (object) => redactSecretKeys(object, CENSOR) },
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { pid: process.pid },
      hooks: { streamWrite: (line: string): string => secrets.mask(line) },
    },
    options.destination ?? stdoutDestination(options.onOutputClosed),
  );
  redactBindings(logger);
  return logger;
}

/**
 * Child bindings get the same treatment. pino runs formatters.bindings on the root's bindings
 * only, so the methods that take bindings are wrapped; children inherit the wrappers (a pino child
 * is an Object.create of its parent).
 */
function redactBindings(logger: Logger): void {
  const { child, setBindings } = logger;
  logger.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, redactSecretKeys(bindings, CENSOR), childOptions);
  } as Logger['child'];
  logger.setBindings = function (this: Logger, bindings) {
    setBindings.call(this, redactSecretKeys(bindings, CENSOR));
  };
}

function stdoutDestination(onClosed: (() => void) | undefined): DestinationStream {
  const dest = pino.destination({ dest: 1, sync: false });
  let closed = false;
  // sonic-boom reports EPIPE as an 'error' event: unhandled, that is a crash with a stack trace.
  dest.on('error', () => {
    if (closed) return;
    closed = true;
    onClosed?.();
  });
  return dest;
}
