// Commands from the cloud: `<point topic>/set` → range check → un-scale → driver write → read-back,
// with the outcome on `<point topic>/set/result`. Nothing is written unless every check passed.
import type { Logger } from 'pino';
import type { Scalar } from '../driver-api/index.js';
import type { Uplink } from '../uplink/uplink.js';
import type { DeviceHost } from '../scheduler/device-host.js';
import type { CompiledPoint } from '../mapping/reading-mapper.js';
import { CommandError, errorText } from '../util/errors.js';
import { compareDecimal, commandDecimal, decimalOfNumber, type Decimal } from '../util/command-number.js';
import { boundedText, boundedValue, quoteValue } from '../util/quote-value.js';
import { MAX_COMMAND_BYTES, parseCommandPayload } from './command-payload.js';
import { unscaleExact } from './unscale.js';

export { parseCommandPayload, MAX_COMMAND_BYTES } from './command-payload.js';

/** Error texts longer than this are cut in results and logs (they may quote device output). */
const MAX_ERROR_CHARS = 300;

interface Route {
  host: DeviceHost;
  point: CompiledPoint;
}

export interface CommandHandlerOptions {
  uplink: Uplink;
  logger: Logger;
  onResult?: (ok: boolean) => void;
  /** Largest payload accepted, bytes; default MAX_COMMAND_BYTES. */
  maxPayloadBytes?: number;
}

export interface CommandResult {
  ok: boolean;
  value?: Scalar;
  error?: string;
}

/** Checks a requested value against the point's settings; returns the raw value for the driver. */
export function prepareWrite(point: CompiledPoint, value: Scalar): Scalar {
  const cfg = point.config;
  if (cfg.writable !== true) throw new CommandError('not_writable', `point ${cfg.name} is not writable`);
  const numeric = cfg.min !== undefined || cfg.max !== undefined || point.scale !== 1 || point.offset !== 0;
  if (!numeric) return value;
  let exact: Decimal;
  try {
    exact = commandDecimal(value);
  } catch (err) {
    throw new CommandError('bad_value', `point ${cfg.name} needs a number: ${errorText(err)}`, { cause: err });
  }
  // Compared as exact decimals: a limit of 0.3 is 0.3, not the float nearest to it.
  if (cfg.min !== undefined && compareDecimal(exact, decimalOfNumber(cfg.min)) < 0) {
    throw new CommandError('out_of_range', `${quoteValue(value)} is below the minimum ${cfg.min}`);
  }
  if (cfg.max !== undefined && compareDecimal(exact, decimalOfNumber(cfg.max)) > 0) {
    throw new CommandError('out_of_range', `${quoteValue(value)} is above the maximum ${cfg.max}`);
  }
  return unscaleExact(exact, point.scale, point.offset, () => `the raw value for ${quoteValue(value)}`);
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
      value = parseCommandPayload(payload, this.options.maxPayloadBytes ?? MAX_COMMAND_BYTES);
      const raw = prepareWrite(route.point, value);
      if (!route.host.canWrite) throw new CommandError('not_writable', `device ${route.host.name} does not accept writes`);
      await route.host.write(route.point.config.name, raw);
      log.info({ device: route.host.name, point: route.point.config.name, value: boundedValue(value) }, 'command written');
      return this.reply(topic, { ok: true, value });
    } catch (err) {
      log.warn(
        { device: route.host.name, point: route.point.config.name, bytes: payload.length, err: boundedText(errorText(err), MAX_ERROR_CHARS) },
        'command rejected',
      );
      return this.reply(topic, { ok: false, ...(value === undefined ? {} : { value }), error: errorText(err) });
    }
  }

  private reply(topic: string, full: CommandResult): CommandResult {
    this.options.onResult?.(full.ok);
    // Whatever produced them (a parser, a driver, a device), value and error are bounded here, once.
    const result: CommandResult = {
      ok: full.ok,
      ...(full.value === undefined ? {} : { value: boundedValue(full.value) }),
      ...(full.error === undefined ? {} : { error: boundedText(full.error, MAX_ERROR_CHARS) }),
    };
    const body = JSON.stringify(result);
    const { uplink } = this.options;
    if (uplink.connected) {
      uplink.publish({ topic: `${topic}/result`, payload: Buffer.from(body), qos: 1, retain: false }, (err) => {
        if (err) this.options.logger.warn({ topic, err: err.message }, 'could not publish a command result');
      });
    }
    return result;
  }
}
