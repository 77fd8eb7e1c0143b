// The identify: rule of a profile, parsed and tested against identification and register values.
import { describe, expect, it } from 'vitest';
import { identityMatches, parseIdentify, registerMatches, type IdentifyRule } from '../../../drivers/modbus/identify.js';

const rule = (value: unknown): IdentifyRule => {
  const parsed = parseIdentify(value);
  if ('problem' in parsed) throw new Error(parsed.problem);
  return parsed.rule;
};

describe('identify rules', () => {
  it.each([
    [[], 'identify is a map (vendor, product, registers)'],
    [{}, 'identify needs vendor, product or registers'],
    [{ vendor: '(' }, expect.stringMatching(/^identify\.vendor: /)],
    [{ registers: [{ table: 'coil', address: 1, equals: 1 }] }, 'identify.registers[0].table is holding or input'],
    [{ registers: [{ table: 'input', address: 1 }] }, 'identify.registers[0] needs equals, pattern, min or max'],
    [{ registers: [{ table: 'input', address: 1, type: 'string', pattern: 'x' }] }, 'identify.registers[0].length (registers) is needed for a string'],
  ])('refuses %j', (value, problem) => {
    expect(parseIdentify(value)).toEqual({ problem });
  });

  it('matches vendor and product case-insensitively, product against code, name or model', () => {
    const r = rule({ vendor: '^eastron', product: 'SDM630' });
    expect(identityMatches(r, { 0: 'Eastron', 1: 'x', 4: 'SDM630-Modbus' })).toBe(true);
    expect(identityMatches(r, { 0: 'Other', 1: 'SDM630' })).toBe(false);
    expect(identityMatches(r, undefined)).toBe(false);
    expect(identityMatches(rule({ registers: [{ table: 'input', address: 0, equals: 1 }] }), undefined)).toBe(true);
  });

  it('tests register values: equals, pattern on text, min/max on numbers', () => {
    const [eq, text, range] = rule({
      registers: [
        { table: 'holding', address: 0, type: 'uint32', equals: 0x53756e53 },
        { table: 'holding', address: 2, type: 'string', length: 2, pattern: '^EM3' },
        { table: 'input', address: 4, type: 'float32', min: 100, max: 300 },
      ],
    }).registers;
    expect(registerMatches(eq!, [0x5375, 0x6e53])).toBe(true);
    expect(registerMatches(eq!, [0x5375, 0x6e54])).toBe(false);
    expect(registerMatches(text!, [0x454d, 0x3334])).toBe(true);
    expect(registerMatches(text!, [0x4158, 0x3334])).toBe(false);
    expect(registerMatches(range!, [0x4366, 0x8000])).toBe(true); // 230.5
    expect(registerMatches(range!, [0x40a0, 0x0000])).toBe(false); // 5
  });
});
