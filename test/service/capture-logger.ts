// A pino logger whose lines land in an array, so tests can assert what was logged and how often.
import { pino, type Logger } from 'pino';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'trace' }, {
    write(chunk: string) {
      lines.push(JSON.parse(chunk) as LogLine);
    },
  });
  return { logger, lines };
}

export const WARN = 40;
export const ERROR = 50;
export const INFO = 30;
