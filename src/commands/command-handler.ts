// Commands from the cloud: `<point topic>/set` → range check → un-scale → driver write → read-back,
// with the outcome on `<point topic>/set/result`. Nothing is written unless every check passed.
import type { Logger } from 'pino';
import type { Scalar } from '../driver-api/index.js';
import type { Uplink } from '../uplink/uplink.js';
import type { DeviceHost } from '../scheduler/device-host.js';
import type { CompiledPoint } from '../mapping/reading-mapper.js';
import { unscaleValue } from '../mapping/reading-mapper.js';
import { CommandError, errorText } from '../util/errors.js';

interface Route {
  host: DeviceHost;
  point: CompiledPoint;
}

export interface CommandHandlerOptions {
  uplink: Uplink;
  logger: Logger;
  onResult?: (ok: boolean) => void;
}

export interface CommandResult {
  ok: boolean;
  value?: Scalar;
  error?: string;
}

/** Parses a command payload: a JSON number/boolean/string, `{"value": …}`, or bare text. */
export function parseCommandPayload(payload: Buffer): Scalar {
  const text = payload.toString('utf8').trim();
  if (text.length === 0) throw new CommandError('bad_payload', 'empty command payload');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && 'value' in parsed) {
    parsed = (parsed as { value: unknown }).value;
  }
  if (typeof parsed === 'number' && !Number.isFinite(parsed)) throw new CommandError('bad_payload', 'command value is not a finite number');
  if (typeof parsed === 'number' || typeof parsed === 'boolean' || typeof parsed === 'string') return parsed;
  throw new CommandError('bad_payload', 'command payload must be a number, a boolean, a string or {"value": …}');
}

/** Checks a requested value against the point's settings; returns the raw value for the driver. */
export function prepareWrite(point: CompiledPoint, value: Scalar): Scalar {
  const cfg = point.config;
  if (cfg.writable !== true) throw new CommandError('not_writable', `point ${cfg.name} is not writable`);
  const numeric = cfg.min !== undefined || cfg.max !== undefined || point.scale !== 1 || point.offset !== 0;
  if (!numeric) return value;
  // Only plain decimal text counts as a number: "0x10" or "1e3" in a string is more likely a mistake.
  const n = typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw new CommandError('bad_value', `point ${cfg.name} needs a number, got ${JSON.stringify(value)}`);
  }
  if (cfg.min !== undefined && n < cfg.min) throw new CommandError('out_of_range', `${n} is below the minimum ${cfg.min}`);
  if (cfg.max !== undefined && n > cfg.max) throw new CommandError('out_of_range', `${n} is above the maximum ${cfg.max}`);
  return unscaleValue(n, point.scale, point.offset);
}

export class CommandHandler {
  private readonly routes = new Map<string, Route>();
  private readonly subscribed = new Set<string>();

  constructor(private readonly options: CommandHandlerOptions) {}

  /** Replaces the routing table with the writable points of these devices. */
  setDevices(hosts: readonly DeviceHost[]): void {
    this.routes.clear();
    for (const host of hosts) {
      for (const point of host.mapper.points.values()) {
        if (point.config.writable !== true) continue;
        const topic = `${point.topic}/set`;
        this.routes.set(topic, { host, point });
        if (!this.subscribed.has(topic)) {
          this.subscribed.add(topic);
          this.options.uplink.subscribe(topic, 1, (t, payload, meta) => void this.handle(t, payload, meta.retain));
        }
      }
    }
  }

  async handle(topic: string, payload: Buffer, retained: boolean): Promise<CommandResult> {
    const log = this.options.logger;
    if (retained) {
      // A retained command would be replayed to us on every reconnect and write again each time.
      log.warn({ topic }, 'ignored a retained command; publish commands without the retain flag');
      return this.reply(topic, { ok: false, error: 'retained commands are ignored; publish without retain' });
    }
    const route = this.routes.get(topic);
    if (!route) return this.reply(topic, { ok: false, error: 'no writable point at this topic' });
    let value: Scalar | undefined;
    try {
      value = parseCommandPayload(payload);
      const raw = prepareWrite(route.point, value);
      if (!route.host.canWrite) throw new CommandError('not_writable', `device ${route.host.name} does not accept writes`);
      await route.host.write(route.point.config.name, raw);
      log.info({ device: route.host.name, point: route.point.config.name, value }, 'command written');
      return this.reply(topic, { ok: true, value });
    } catch (err) {
      log.warn({ device: route.host.name, point: route.point.config.name, err: errorText(err) }, 'command rejected');
      return this.reply(topic, { ok: false, ...(value === undefined ? {} : { value }), error: errorText(err) });
    }
  }

  private reply(topic: string, result: CommandResult): CommandResult {
    this.options.onResult?.(result.ok);
    const body = JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const { uplink } = this.options;
    if (uplink.connected) {
      uplink.publish({ topic: `${topic}/result`, payload: Buffer.from(body), qos: 1, retain: false }, (err) => {
        if (err) this.options.logger.warn({ topic, err: err.message }, 'could not publish a command result');
      });
    }
    return result;
  }
}
