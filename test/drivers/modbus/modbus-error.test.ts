import { expect, it } from 'vitest';
import { TransportError, toModbusError } from '../../../drivers/modbus/modbus-error.js';

// Error texts end up in published readings and tell one fault from another: the same failure must
// give the same text every time, whatever varies in the library's wording.
it.each([
  ['malformed answers', [{ message: 'Data length error, expected 25 got 13' }, { message: 'Data length error, expected 25 got 7' }]],
  ['unexpected data', [{ message: 'Unexpected data: 01 83 04' }, { message: 'Unexpected data: 01 03 02 00' }]],
  ['timeouts', [{ name: 'TransactionTimedOutError', message: 'Timed out after 1000 ms' }, { errno: 'ETIMEDOUT', message: 'timed out (3)' }]],
  ['exception 04', [{ modbusCode: 4, message: 'Modbus exception 4: Slave device failure (device must be restarted)' }, { modbusCode: 4, message: 'x' }]],
])('%s give one stable text; the variable part stays in the cause', (_name, errors) => {
  const texts = errors.map((e) => toModbusError(e, 'read holding 0..9 (unit 1)').message);
  expect(new Set(texts).size).toBe(1);
  expect(texts[0]).not.toMatch(/\d+ ?ms\b|got \d|\b[0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2}\b/i);
  expect(toModbusError(errors[0], 'x').cause).toBe(errors[0]);
});

// fieldgate's TCP client says what the fault is; its wording must not be guessed from.
it.each([
  [new TransportError('timeout', 'no answer (timed out)'), 'timeout', 'x: no answer (timeout)'],
  [new TransportError('protocol', 'unexpected answer: byte count 2 in 2 bytes, 4 expected'), 'protocol', 'x: malformed answer'],
  [new TransportError('connection', 'connection closed'), 'connection', 'x: connection closed'],
  // A connection fault whose wording a guess would take for a timeout or a CRC error.
  [new TransportError('connection', 'connect timed out, CRC'), 'connection', 'x: connect timed out, CRC'],
  [new TransportError('exception', 'Modbus exception 3', { modbusCode: 3 }), 'exception', 'x: exception 03 (illegal data value)'],
])('a TransportError keeps its fault: %s', (err, fault, message) => {
  expect(toModbusError(err, 'x')).toMatchObject({ fault, message, cause: err });
});
