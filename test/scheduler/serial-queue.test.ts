import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../src/scheduler/serial-queue.js';

/** A promise the test settles by hand. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('SerialQueue', () => {
  it('runs tasks one at a time in submission order and returns each result', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    const task = (name: string, ticks: number) => async () => {
      running += 1;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      for (let i = 0; i < ticks; i++) await turn();
      log.push(`end ${name}`);
      running -= 1;
      return name.toUpperCase();
    };
    const results = await Promise.all([q.run(task('a', 3)), q.run(task('b', 0)), q.run(task('c', 1))]);
    expect(results).toEqual(['A', 'B', 'C']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('does not start a task before the previous one settled', async () => {
    const q = new SerialQueue();
    const gate = deferred();
    let secondStarted = false;
    const first = q.run(() => gate.promise);
    const second = q.run(async () => {
      secondStarted = true;
    });
    for (let i = 0; i < 5; i++) await turn();
    expect(secondStarted).toBe(false);
    gate.resolve();
    await Promise.all([first, second]);
    expect(secondStarted).toBe(true);
  });

  it('a rejected task rejects its own promise only; later tasks still run', async () => {
    const q = new SerialQueue();
    const order: number[] = [];
    const a = q.run(async () => {
      order.push(1);
      throw new Error('boom');
    });
    const b = q.run(async () => {
      order.push(2);
      return 'ok';
    });
    await expect(a).rejects.toThrow('boom');
    await expect(b).resolves.toBe('ok');
    expect(order).toEqual([1, 2]);
  });

  it('a task that throws synchronously is treated like a rejection', async () => {
    const q = new SerialQueue();
    const bad = q.run((() => {
      throw new Error('sync');
    }) as () => Promise<void>);
    await expect(bad).rejects.toThrow('sync');
    await expect(q.run(async () => 5)).resolves.toBe(5);
  });

  it('several rejections in a row do not block the queue', async () => {
    const q = new SerialQueue();
    const fails = [1, 2, 3].map((i) => q.run(async () => Promise.reject(new Error(`e${i}`))));
    for (const [i, f] of fails.entries()) await expect(f).rejects.toThrow(`e${i + 1}`);
    await expect(q.run(async () => 'after')).resolves.toBe('after');
  });

  it('idle resolves once everything submitted so far has finished, even after a rejection', async () => {
    const q = new SerialQueue();
    const gate = deferred();
    const done: string[] = [];
    void q.run(async () => {
      await gate.promise;
      done.push('a');
    });
    const failing = q.run(async () => {
      done.push('b');
      throw new Error('x');
    });
    failing.catch(() => undefined);
    let idle = false;
    const waiting = q.idle().then(() => {
      idle = true;
    });
    for (let i = 0; i < 5; i++) await turn();
    expect(idle).toBe(false);
    gate.resolve();
    await waiting;
    expect(done).toEqual(['a', 'b']);
  });

  it('idle on an empty queue resolves at once', async () => {
    await expect(new SerialQueue().idle()).resolves.toBeUndefined();
  });

  it('idle does not wait for tasks submitted after it was called', async () => {
    const q = new SerialQueue();
    await q.run(async () => undefined);
    let idle = false;
    void q.idle().then(() => {
      idle = true;
    });
    const gate = deferred();
    const later = q.run(() => gate.promise);
    for (let i = 0; i < 5; i++) await turn();
    expect(idle).toBe(true);
    gate.resolve();
    await later;
  });
});
