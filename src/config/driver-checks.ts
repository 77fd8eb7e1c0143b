// The drivers' own checks, and conflicts between devices over physical resources: two devices
// on one serial port work only if both agree on the line settings (the same `share` token).
import type { ResourceClaim } from '../driver-api/index.js';
import type { CheckContext, CheckedDevice } from './check-context.js';
import { pointerOf } from './yaml-source.js';
import { at } from './schema-errors.js';
import { driverIndexMap, driverView } from '../mapping/driver-view.js';

interface Claimant {
  device: CheckedDevice;
  claim: ResourceClaim;
}

export function checkDrivers(ctx: CheckContext): void {
  const claims = new Map<string, Claimant[]>();
  for (const device of ctx.devices) {
    runDriverCheck(ctx, device);
    for (const claim of claimsOf(ctx, device)) {
      const earlier = claims.get(claim.id) ?? [];
      const clash = earlier.find((other) => !sharable(other.claim, claim) && other.device !== device);
      if (clash) reportConflict(ctx, clash, { device, claim });
      claims.set(claim.id, [...earlier, { device, claim }]);
    }
  }
}

function runDriverCheck(ctx: CheckContext, device: CheckedDevice): void {
  if (!device.driver.check) return;
  try {
    // The driver checks its own points only; its `points[i]` is turned back into the file's index.
    const indexOf = driverIndexMap(device.config);
    for (const issue of device.driver.check(driverView(device.config))) {
      const path = issue.path[0] === 'points' && typeof issue.path[1] === 'number'
        ? ['points', indexOf[issue.path[1]] ?? issue.path[1], ...issue.path.slice(2)]
        : issue.path;
      const pointer = device.pointer + pointerOf(path);
      ctx.report(pointer, 'value', at(pointer, issue.message));
    }
  } catch (err) {
    ctx.report(device.pointer, 'value', at(device.pointer, `driver '${device.driver.type}' failed to check this device: ${(err as Error).message}`));
  }
}

function claimsOf(ctx: CheckContext, device: CheckedDevice): ResourceClaim[] {
  if (!device.driver.resources) return [];
  try {
    return device.driver.resources(driverView(device.config));
  } catch (err) {
    ctx.report(device.pointer, 'value', at(device.pointer, `driver '${device.driver.type}' failed to list this device's resources: ${(err as Error).message}`));
    return [];
  }
}

function sharable(a: ResourceClaim, b: ResourceClaim): boolean {
  return a.share !== undefined && a.share !== '' && a.share === b.share;
}

function reportConflict(ctx: CheckContext, first: Claimant, second: Claimant): void {
  const describe = (c: Claimant): string =>
    `device '${c.device.config.name}'${c.claim.describe ? ` (${c.claim.describe})` : ''}`;
  const pointer = `${second.device.pointer}/name`;
  ctx.report(
    pointer,
    'value',
    at(
      second.device.pointer,
      `${describe(second)} and ${describe(first)} on line ${ctx.lineOf(`${first.device.pointer}/name`)} both use ${second.claim.id}` +
        (first.claim.share && second.claim.share
          ? ' with different settings'
          : `; ${first.claim.share ? describe(second) : describe(first)} needs it to itself`),
    ),
  );
}
