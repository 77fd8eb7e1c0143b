// pino logger with two layers of secret hygiene: known key paths are redacted, and any secret
// value (passwords from the site file or the environment) is masked wherever it appears in a line.
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export const LOG_LEVELS: readonly LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export interface LoggerOptions {
  level?: LevelWithSilent;
  secrets?: readonly string[];
  destination?: DestinationStream;
  name?: string;
}

const REDACT_PATHS = [
  'password', '*.password', '*.*.password', 'mqtt.password', 'secret', '*.secret', 'token', '*.token',
  'authorization', '*.authorization',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 3);
  return pino(
    {
      name: options.name ?? 'fieldgate',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { pid: process.pid },
      hooks: secrets.length === 0 ? {} : {
        streamWrite(line: string): string {
          let out = line;
          for (const s of secrets) {
            const escaped = JSON.stringify(s).slice(1, -1);
            out = out.split(escaped).join('[redacted]');
          }
          return out;
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
