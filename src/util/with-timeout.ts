// A deadline for a promise that may never settle (a D-Bus call on a dead bus, a TCP connect to a
// silent host). The promise itself is not cancelled: callers close what it waits on.
import { DeviceError } from './errors.js';

/** Rejects with DeviceError('timeout', "<what> timed out after <ms> ms") unless `promise` settles first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeviceError('timeout', `${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
