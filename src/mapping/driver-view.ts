// What a driver sees of its device: the points it reads. Computed points (`expr:`) are the core's
// (computed-points.ts); no driver ever gets one. Kept apart from the evaluation so config code can
// use it without importing the mapper.
import type { DeviceConfigBase, PointConfigBase } from '../driver-api/index.js';

export function isComputed(point: PointConfigBase): boolean {
  return typeof point.expr === 'string';
}

/** The device as its driver sees it: without computed points. The same object when it has none. */
export function driverView<D extends DeviceConfigBase>(device: D): D {
  if (!device.points.some(isComputed)) return device;
  return { ...device, points: device.points.filter((p) => !isComputed(p)) };
}

/**
 * Index of each of the driver's points in the full points list: a driver's check reports
 * `points[i]` of its view, which the core turns back into the position in the file.
 */
export function driverIndexMap(device: DeviceConfigBase): number[] {
  const out: number[] = [];
  device.points.forEach((p, i) => {
    if (!isComputed(p)) out.push(i);
  });
  return out;
}
