// Typed errors: every error the gateway raises says whether retrying can help.
export type ErrorKind = 'retryable' | 'fatal';

export class FieldgateError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;

  constructor(code: string, message: string, options: { kind?: ErrorKind; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.kind = options.kind ?? 'fatal';
  }

  get retryable(): boolean {
    return this.kind === 'retryable';
  }
}

/** A device could not be read or written (timeout, exception, link down). Always retryable. */
export class DeviceError extends FieldgateError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { kind: 'retryable', cause: options.cause });
  }
}

/** A command from the cloud was rejected before anything was written. Never retryable. */
export class CommandError extends FieldgateError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { kind: 'fatal', cause: options.cause });
  }
}

/** Human text of any thrown value, for logs and result payloads. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
