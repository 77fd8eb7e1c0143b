// Finding the source text of {"value": …} so a number is read from what was sent, not from a float.
import { describe, expect, it } from 'vitest';
import { memberLiteral, parseCommandPayload } from '../../src/commands/command-payload.js';

describe('memberLiteral', () => {
  it.each<[string, string | undefined]>([
    ['{"value":1}', '1'],
    ['{ "value" : -12.50e3 }', '-12.50e3'],
    ['{\n\t"value":\r\n9007199254740993\n}', '9007199254740993'],
    ['{"a":"\\"value\\":5","value":6}', '6'],
    ['{"a":{"value":5},"value":7}', '7'],
    ['{"a":[1,{"value":5}],"value":8}', '8'],
    ['{"a":"}]{[","value":9}', '9'],
    ['{"va\\"lue":1,"value":10}', '10'],
    ['{"\\u0076alue":11}', '11'],
    ['{"value":1,"value":12}', '12'],
    ['{"value":"x"}', '"x"'],
    ['{"value":{"value":1}}', '{"value":1}'],
    ['{"other":1}', undefined],
    ['{}', undefined],
  ])('%s → %s', (text, literal) => {
    JSON.parse(text); // only ever called on text JSON.parse accepted
    expect(memberLiteral(text, 'value')).toBe(literal);
  });

  it('agrees with JSON.parse on which number is meant, digit for digit', () => {
    for (const n of ['0', '-0', '1.5', '123456789012345678901234567890', '-9223372036854775808', '2.5e-3']) {
      const value = parseCommandPayload(Buffer.from(`{"x":"value","value":${n},"y":[{"value":0}]}`));
      expect(value, n).toBe(parseCommandPayload(Buffer.from(n)));
    }
  });
});
