// One error type for everything that can go wrong on the wire, labelled with a stable fault kind
// (the label the core counts in reportError) and the Modbus exception code when there is one.
// Messages are stable texts (they end up in published readings); what varies from one answer to
// the next — byte counts, the library's own wording — stays in `cause`, which the core logs as a
// separate field.
import { DeviceError } from '../../src/driver-api/index.js';

export type FaultKind = 'timeout' | 'exception' | 'crc' | 'connection' | 'protocol';

export const EXCEPTION_NAMES: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

export class ModbusError extends DeviceError {
  readonly fault: FaultKind;
  readonly modbusCode: number | undefined;

  constructor(fault: FaultKind, message: string, options: { cause?: unknown; modbusCode?: number } = {}) {
    super(fault, message, { cause: options.cause });
    this.fault = fault;
    this.modbusCode = options.modbusCode;
  }

  /** The device (or a gateway in front of it) did not answer: reading on is pointless this poll. */
  get unreachable(): boolean {
    return this.fault === 'timeout' || this.fault === 'connection' || this.modbusCode === 10 || this.modbusCode === 11;
  }

  /** The device refused the addresses or the quantity: splitting the read can isolate the culprit. */
  get addressRefused(): boolean {
    return this.modbusCode === 2 || this.modbusCode === 3;
  }
}

/**
 * What fieldgate's own Modbus TCP client throws: it knows the kind of fault, so toModbusError takes
 * it from here instead of guessing it from a library's wording.
 */
export class TransportError extends Error {
  readonly fault: FaultKind;
  readonly modbusCode: number | undefined;

  constructor(fault: FaultKind, message: string, options: { cause?: unknown; modbusCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TransportError';
    this.fault = fault;
    this.modbusCode = options.modbusCode;
  }
}

interface LibraryError {
  name?: string;
  message?: string;
  errno?: string;
  code?: string;
  modbusCode?: number;
}

/**
 * Maps what fieldgate's TCP client, modbus-serial, net and serialport throw to a ModbusError;
 * `what` says which request.
 */
export function toModbusError(err: unknown, what: string): ModbusError {
  if (err instanceof ModbusError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as LibraryError;
  const message = e.message ?? String(err);
  if (typeof e.modbusCode === 'number') {
    const name = EXCEPTION_NAMES[e.modbusCode] ?? 'unknown exception';
    const code = e.modbusCode.toString(16).padStart(2, '0');
    return new ModbusError('exception', `${what}: exception ${code} (${name})`, { cause: err, modbusCode: e.modbusCode });
  }
  switch (err instanceof TransportError ? err.fault : guessFault(e, message)) {
    case 'timeout':
      return new ModbusError('timeout', `${what}: no answer (timeout)`, { cause: err });
    case 'crc':
      return new ModbusError('crc', `${what}: CRC error`, { cause: err });
    case 'protocol':
      return new ModbusError('protocol', `${what}: malformed answer`, { cause: err });
    default:
      return new ModbusError('connection', `${what}: ${message || 'connection failed'}`, { cause: err });
  }
}

/** The libraries say what went wrong only in their names, errno values and messages. */
function guessFault(e: LibraryError, message: string): FaultKind {
  if (e.errno === 'ETIMEDOUT' || e.name === 'TransactionTimedOutError' || /timed out/i.test(message)) return 'timeout';
  if (/crc/i.test(message)) return 'crc';
  if (/data length error|unexpected data/i.test(message)) return 'protocol';
  return 'connection';
}
