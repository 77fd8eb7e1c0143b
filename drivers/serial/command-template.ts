// Rendering a command for the port: the point's `command` template with {value} replaced.
// Numbers are written plainly (never "1e-7" or "1e+21"), booleans as 1/0.
import { CommandError, type Scalar } from '../../src/driver-api/index.js';
import { typeField, type FieldType } from './field-type.js';

export const VALUE_PLACEHOLDER = '{value}';

/** `template` has its escapes decoded already. Throws CommandError for a value the point cannot take. */
export function renderCommand(template: string, value: Scalar, type: FieldType): string {
  const text = valueText(value, type);
  // A control character in the value could end the command early and start another one.
  if (/[\x00-\x1f\x7f]/.test(text)) {
    throw new CommandError('invalid_value', 'value contains control characters');
  }
  return template.split(VALUE_PLACEHOLDER).join(text);
}

function valueText(value: Scalar, type: FieldType): string {
  switch (type) {
    case 'bool': {
      const typed = typeof value === 'bigint' ? typeField(value.toString(), 'bool') : typeField(value, 'bool');
      if (!typed.ok) throw new CommandError('invalid_value', `expected a boolean, got ${show(value)}`);
      return typed.value ? '1' : '0';
    }
    case 'int': {
      if (typeof value === 'bigint') return value.toString();
      const typed = typeField(typeof value === 'boolean' ? 'x' : value, 'int');
      if (!typed.ok) throw new CommandError('invalid_value', `expected an integer, got ${show(value)}`);
      return typeof typed.value === 'number' ? formatPlain(typed.value) : typed.value.toString();
    }
    case 'float': {
      if (typeof value === 'bigint') return value.toString();
      const typed = typeField(typeof value === 'boolean' ? 'x' : value, 'float');
      if (!typed.ok) throw new CommandError('invalid_value', `expected a number, got ${show(value)}`);
      return formatPlain(typed.value as number);
    }
    case 'string':
      if (typeof value === 'boolean') return value ? '1' : '0';
      if (typeof value === 'number') return formatPlain(value);
      return value.toString();
  }
}

/** Decimal notation without an exponent; -0 is "0". */
export function formatPlain(n: number): string {
  if (!Number.isFinite(n)) throw new CommandError('invalid_value', `not a finite number: ${n}`);
  if (n === 0) return '0';
  const text = String(n);
  const e = text.indexOf('e');
  if (e < 0) return text;
  if (Number.isInteger(n)) return BigInt(n).toString();
  // Small magnitudes: as many decimals as the shortest representation needs.
  const mantissa = text.slice(0, e);
  const decimals = (mantissa.split('.')[1]?.length ?? 0) - Number(text.slice(e + 1));
  return n.toFixed(Math.min(100, decimals));
}

function show(value: Scalar): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
