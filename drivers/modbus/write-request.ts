// A write command → the Modbus frame(s) that carry it, or a CommandError before anything is sent.
// Pure; the driver executes the result.
import { CommandError, type Scalar, errorText } from '../../src/driver-api/index.js';
import { encodeValue, toBoolean } from './register-codec.js';
import type { CompiledPoint } from './request-plan.js';
import type { ByteOrder } from './schema.js';

export type WriteAction =
  /** FC 5 (one coil) or FC 15 (write_function: multiple). */
  | { kind: 'coil'; fc: 5 | 15; address: number; on: boolean }
  /** FC 6 (one register) or FC 16. */
  | { kind: 'registers'; fc: 6 | 16; address: number; values: number[] }
  /** One bit of a holding register: read (FC 3), change the bit, write back (FC 6 or 16). */
  | { kind: 'bit'; fc: 6 | 16; address: number; bit: number; on: boolean; order: ByteOrder };

function invalid(point: CompiledPoint, err: unknown): CommandError {
  const reason = errorText(err);
  return new CommandError('invalid_value', `${point.name} (${point.spec.type}): ${reason}`, { cause: err });
}

export function buildWrite(point: CompiledPoint, value: Scalar): WriteAction {
  if (point.table !== 'holding' && point.table !== 'coil') {
    throw new CommandError('read_only', `${point.name} is in the ${point.table} table, which Modbus cannot write`);
  }
  if (!point.writable) throw new CommandError('not_writable', `${point.name} is not writable (set writable: true)`);
  const multiple = point.writeFunction === 'multiple';
  try {
    if (point.table === 'coil') {
      return { kind: 'coil', fc: multiple ? 15 : 5, address: point.address, on: toBoolean(value) };
    }
    if (point.spec.bit !== undefined) {
      return {
        kind: 'bit', fc: multiple ? 16 : 6, address: point.address, bit: point.spec.bit, on: toBoolean(value), order: point.spec.order,
      };
    }
    const values = encodeValue(value, point.spec);
    return { kind: 'registers', fc: values.length === 1 && !multiple ? 6 : 16, address: point.address, values };
  } catch (err) {
    throw invalid(point, err);
  }
}
