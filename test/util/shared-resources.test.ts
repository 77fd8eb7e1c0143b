import { describe, expect, it, vi } from 'vitest';
import { SharedResourcePool } from '../../src/util/shared-resources.js';

describe('SharedResourcePool', () => {
  it('creates on the first acquire and hands the same object to later ones', () => {
    const pool = new SharedResourcePool();
    const create = vi.fn(() => ({ bus: '/dev/ttyUSB0' }));
    const dispose = vi.fn();
    const a = pool.acquire('serial:/dev/ttyUSB0', create, dispose);
    const b = pool.acquire('serial:/dev/ttyUSB0', create, dispose);
    expect(a).toBe(b);
    expect(create).toHaveBeenCalledTimes(1);
    expect(pool.size).toBe(1);
  });

  it('disposes only on the last release, once, with the created value', async () => {
    const pool = new SharedResourcePool();
    const value = { id: 1 };
    const dispose = vi.fn();
    for (let i = 0; i < 3; i++) pool.acquire('k', () => value, dispose);
    await pool.release('k');
    await pool.release('k');
    expect(dispose).not.toHaveBeenCalled();
    expect(pool.size).toBe(1);
    await pool.release('k');
    expect(dispose).toHaveBeenCalledTimes(1);
    expect(dispose).toHaveBeenCalledWith(value);
    expect(pool.size).toBe(0);
    await pool.release('k');
    expect(dispose).toHaveBeenCalledTimes(1);
  });

  it('keeps keys independent', async () => {
    const pool = new SharedResourcePool();
    const disposed: string[] = [];
    const a = pool.acquire('a', () => 'A', (v) => void disposed.push(v));
    const b = pool.acquire('b', () => 'B', (v) => void disposed.push(v));
    expect([a, b]).toEqual(['A', 'B']);
    await pool.release('b');
    expect(disposed).toEqual(['B']);
    expect(pool.size).toBe(1);
    await pool.release('a');
    expect(disposed).toEqual(['B', 'A']);
  });

  it('release waits for an async dispose', async () => {
    const pool = new SharedResourcePool();
    let closed = false;
    pool.acquire('k', () => 1, async () => {
      await new Promise((r) => setTimeout(r, 5));
      closed = true;
    });
    await pool.release('k');
    expect(closed).toBe(true);
  });

  it('release of an unknown key does nothing', async () => {
    await expect(new SharedResourcePool().release('nope')).resolves.toBeUndefined();
  });

  it('acquiring again after the last release creates a fresh object', async () => {
    const pool = new SharedResourcePool();
    let n = 0;
    const first = pool.acquire('k', () => ++n, () => undefined);
    await pool.release('k');
    const second = pool.acquire('k', () => ++n, () => undefined);
    expect([first, second]).toEqual([1, 2]);
  });

  it('the dispose given with the first acquire is the one used', async () => {
    const pool = new SharedResourcePool();
    const first = vi.fn();
    const later = vi.fn();
    pool.acquire('k', () => 1, first);
    pool.acquire('k', () => 2, later);
    await pool.release('k');
    await pool.release('k');
    expect(first).toHaveBeenCalledTimes(1);
    expect(later).not.toHaveBeenCalled();
  });

  it('a create that throws stores nothing', () => {
    const pool = new SharedResourcePool();
    expect(() => pool.acquire('k', () => { throw new Error('no port'); }, () => undefined)).toThrow('no port');
    expect(pool.size).toBe(0);
    expect(pool.acquire('k', () => 'ok', () => undefined)).toBe('ok');
  });

  it('a dispose that rejects rejects release, and the entry is gone', async () => {
    const pool = new SharedResourcePool();
    pool.acquire('k', () => 1, async () => Promise.reject(new Error('close failed')));
    await expect(pool.release('k')).rejects.toThrow('close failed');
    expect(pool.size).toBe(0);
  });
});
