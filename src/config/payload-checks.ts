// Checks on how readings are encoded: combinations that the schema allows key by key but that
// make no sense together. Work on the effective settings (device value, else the top level).
import type { CheckContext } from './check-context.js';
import { at } from './schema-errors.js';

export function checkPayloads(ctx: CheckContext): void {
  let siteReported = false;
  for (const device of ctx.devices) {
    const { config, written, pointer } = device;
    if (config.payload === 'value' && config.payload_encoding === 'cbor') {
      // Say it where the user can fix it: at the key written closest to the device.
      if (written.payload_encoding !== undefined) {
        ctx.report(`${pointer}/payload_encoding`, 'value', at(`${pointer}/payload_encoding`, 'cbor cannot be used with payload: value (a bare value has no structure to encode); use json or batch'));
      } else if (written.payload !== undefined) {
        ctx.report(`${pointer}/payload`, 'value', at(`${pointer}/payload`, 'payload: value cannot be sent as cbor (payload_encoding: cbor is inherited from the top level); set payload_encoding: json on this device'));
      } else if (!siteReported) {
        siteReported = true;
        ctx.report('/payload_encoding', 'value', at('/payload_encoding', 'cbor cannot be used with payload: value; use payload: json or batch'));
      }
    }
    if (config.payload !== 'batch') continue;
    written.points.forEach((point, j) => {
      if (point.retain === true) {
        const where = `${pointer}/points/${j}/retain`;
        ctx.report(where, 'value', at(where, 'a point of a payload: batch device cannot be retained (one message per poll carries every point; units and the point list are in the retained <device topic>/meta)'));
      }
    });
  }
}
