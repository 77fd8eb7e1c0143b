// A profile's `identify:` block and the pure test of it against what a unit answered: its Modbus
// device identification (FC 43/14) and register values. `fieldgate scan` reads, this decides.
import { decodeRegisters } from './register-codec.js';
import { ORDERS, type ByteOrder, type DataType } from './schema.js';

export interface RegisterCondition {
  table: 'holding' | 'input';
  address: number;
  type: DataType;
  order: ByteOrder;
  length?: number;
  equals?: number | string;
  pattern?: RegExp;
  min?: number;
  max?: number;
}

export interface IdentifyRule {
  vendor?: RegExp;
  product?: RegExp;
  registers: RegisterCondition[];
}

/** FC 43/14 objects by id: 0 VendorName, 1 ProductCode, 2 MajorMinorRevision, 3 VendorUrl, 4 ProductName, 5 ModelName. */
export type DeviceIdentity = Record<number, string>;

const TYPES = ['uint16', 'int16', 'uint32', 'int32', 'float32', 'string'] as const;

/** The rule of an `identify:` value, or a problem with it (the editors' schema describes the shape). */
export function parseIdentify(value: unknown): { rule: IdentifyRule } | { problem: string } {
  if (!isRecord(value)) return { problem: 'identify is a map (vendor, product, registers)' };
  const regex = (key: 'vendor' | 'product'): RegExp | string | undefined => {
    const text = value[key];
    if (text === undefined) return undefined;
    if (typeof text !== 'string') return `identify.${key} is a regular expression (text)`;
    try {
      return new RegExp(text, 'i');
    } catch (err) {
      return `identify.${key}: ${(err as Error).message}`;
    }
  };
  const vendor = regex('vendor');
  const product = regex('product');
  for (const r of [vendor, product]) if (typeof r === 'string') return { problem: r };
  const registers: RegisterCondition[] = [];
  const list = value.registers ?? [];
  if (!Array.isArray(list)) return { problem: 'identify.registers is a list' };
  for (const [i, raw] of list.entries()) {
    const where = `identify.registers[${i}]`;
    if (!isRecord(raw)) return { problem: `${where} is a map (table, address, and equals, pattern or min/max)` };
    const { table, address, type = 'uint16', order = 'ABCD', length, equals, pattern, min, max } = raw;
    if (table !== 'holding' && table !== 'input') return { problem: `${where}.table is holding or input` };
    if (!Number.isInteger(address) || (address as number) < 0 || (address as number) > 65535) return { problem: `${where}.address is 0 to 65535` };
    if (!(TYPES as readonly unknown[]).includes(type)) return { problem: `${where}.type is one of ${TYPES.join(', ')}` };
    if (!(ORDERS as readonly unknown[]).includes(order)) return { problem: `${where}.order is one of ${ORDERS.join(', ')}` };
    if (type === 'string' && !(Number.isInteger(length) && (length as number) >= 1 && (length as number) <= 125)) return { problem: `${where}.length (registers) is needed for a string` };
    if (equals === undefined && pattern === undefined && min === undefined && max === undefined) return { problem: `${where} needs equals, pattern, min or max` };
    let re: RegExp | undefined;
    if (pattern !== undefined) {
      try {
        re = new RegExp(String(pattern));
      } catch (err) {
        return { problem: `${where}.pattern: ${(err as Error).message}` };
      }
    }
    registers.push({
      table, address: address as number, type: type as DataType, order: order as ByteOrder,
      ...(length === undefined ? {} : { length: length as number }),
      ...(typeof equals === 'number' || typeof equals === 'string' ? { equals } : {}),
      ...(re ? { pattern: re } : {}),
      ...(typeof min === 'number' ? { min } : {}),
      ...(typeof max === 'number' ? { max } : {}),
    });
  }
  if (!vendor && !product && registers.length === 0) return { problem: 'identify needs vendor, product or registers' };
  return { rule: { ...(vendor ? { vendor: vendor as RegExp } : {}), ...(product ? { product: product as RegExp } : {}), registers } };
}

/** Registers one condition reads. */
export function conditionWidth(c: RegisterCondition): number {
  return c.type === 'string' ? c.length ?? 1 : c.type === 'uint16' || c.type === 'int16' ? 1 : 2;
}

/** Whether the unit's identification satisfies the rule's vendor/product (true when it names neither). */
export function identityMatches(rule: IdentifyRule, identity: DeviceIdentity | undefined): boolean {
  if (!rule.vendor && !rule.product) return true;
  if (!identity) return false;
  if (rule.vendor && !rule.vendor.test(identity[0] ?? '')) return false;
  if (rule.product && !rule.product.test(identity[1] ?? '') && !rule.product.test(identity[4] ?? '') && !rule.product.test(identity[5] ?? '')) return false;
  return true;
}

/** Whether registers read for a condition hold what it asks. */
export function registerMatches(c: RegisterCondition, registers: readonly number[]): boolean {
  const value = decodeRegisters(registers, { type: c.type, order: c.order, ...(c.length === undefined ? {} : { length: c.length }) });
  if (c.equals !== undefined && String(value) !== String(c.equals)) return false;
  if (c.pattern && !c.pattern.test(String(value))) return false;
  if (c.min !== undefined && !(typeof value === 'number' && value >= c.min)) return false;
  if (c.max !== undefined && !(typeof value === 'number' && value <= c.max)) return false;
  return true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
