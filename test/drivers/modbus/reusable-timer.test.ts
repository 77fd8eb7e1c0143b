// The one Timeout a Modbus client or line re-arms for every request: each start counts from
// itself, with its own delay, also after the timer has fired; stop() disarms it.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { ReusableTimer } from '../../../drivers/modbus/reusable-timer.js';

it('fires once per start, counted from the latest start, with the latest delay', async () => {
  const t0 = performance.now();
  const fired: number[] = [];
  const timer = new ReusableTimer(() => fired.push(performance.now() - t0));
  timer.start(30);
  await sleep(15);
  timer.start(30); // re-armed before it fired: due 30 ms from here, not from t0
  await sleep(50);
  expect(fired).toHaveLength(1);
  expect(fired[0]).toBeGreaterThanOrEqual(44);
  timer.start(30); // after it fired
  await sleep(45);
  expect(fired).toHaveLength(2);
  timer.start(60); // another delay: not the 30 ms of the Timeout it had
  await sleep(45);
  expect(fired).toHaveLength(2);
  await sleep(30);
  expect(fired).toHaveLength(3);
  timer.start(10);
  timer.stop();
  await sleep(25);
  expect(fired).toHaveLength(3);
});
