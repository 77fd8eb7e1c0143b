import { describe, expect, it } from 'vitest';
import { expandEnv } from '../../src/config/env-expand.js';

describe('expandEnv', () => {
  const env = { A: 'one', B: '', PATH_PART: '/x' };

  it('replaces references anywhere in the text', () => {
    expect(expandEnv('${A}-${PATH_PART}/${B}end', env)).toEqual({ ok: true, value: 'one-/x/end', usedEnv: true });
  });

  it('leaves text without references alone', () => {
    expect(expandEnv('plain $ text {x}', env)).toEqual({ ok: true, value: 'plain $ text {x}', usedEnv: false });
  });

  it('treats $${ as a literal ${', () => {
    expect(expandEnv('cost $${A} and ${A}', env)).toEqual({ ok: true, value: 'cost ${A} and one', usedEnv: true });
    expect(expandEnv('$${', env)).toEqual({ ok: true, value: '${', usedEnv: false });
  });

  it('names every unset variable once', () => {
    expect(expandEnv('${NOPE}', env)).toEqual({ ok: false, message: 'environment variable NOPE is not set' });
    expect(expandEnv('${X}${Y}${X}', env)).toEqual({ ok: false, message: 'environment variables X, Y are not set' });
  });

  it('does not take inherited members of a plain-object env', () => {
    expect(expandEnv('${constructor}', {})).toEqual({ ok: false, message: 'environment variable constructor is not set' });
  });

  it('rejects malformed references', () => {
    expect(expandEnv('${1A}', env).ok).toBe(false);
    expect(expandEnv('abc ${A', env)).toMatchObject({ ok: false, message: expect.stringContaining('"${A"') });
    expect(expandEnv('${A:-x}', env).ok).toBe(false);
  });
});
