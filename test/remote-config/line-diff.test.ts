import { describe, expect, it } from 'vitest';
import { lineDiff } from '../../src/remote-config/line-diff.js';

describe('lineDiff', () => {
  it('shows a changed and an added line with context, and nothing for equal files', () => {
    const a = 'a\nb\nc\nd\ne\nf\ng\nh\n';
    const b = 'a\nb\nC\nd\ne\nf\ng\nh\ni\n';
    expect(lineDiff(a, b, ['1', '2'])).toBe(['--- 1', '+++ 2', '@@ line 1 @@', ' a', ' b', '-c', '+C', ' d', ' e', '@@ line 7 @@', ' g', ' h', '+i', ' '].join('\n'));
    expect(lineDiff(a, a, ['1', '1'])).toBe('');
  });
});
