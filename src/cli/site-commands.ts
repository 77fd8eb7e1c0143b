// Commands that only read the site file and the devices: validate, plan, read, schema.
import { drivers } from '../../drivers/index.js';
import { loadDriver } from '../driver-api/index.js';
import { loadSite } from '../config/load-site.js';
import { ConfigError } from '../config/config-error.js';
import { profileLabel, summarizeSite } from '../config/summarize-site.js';
import { profileSchemaText, siteSchemaText } from '../config/site-schema.js';
import type { ResolvedSite } from '../config/resolved-site.js';
import { DeviceHost } from '../scheduler/device-host.js';
import { CborCodec, looksLikeCborMap } from '../wire/cbor-codec.js';
import { SharedResourcePool } from '../util/shared-resources.js';
import { createLogger } from '../util/logger.js';
import { errorText } from '../util/errors.js';
import { parseDuration } from '../util/duration.js';
import type { NewEntry } from '../journal/journal.js';
import type { LevelWithSilent } from 'pino';
import { println, type CliIo } from './io.js';
import { driverView, isComputed } from '../mapping/driver-view.js';
import { sitePlan } from '../homeassistant/discovery.js';
import { packageVersion } from '../util/package-root.js';

/** Loads the site file, printing every error as file:line:col; undefined when invalid. */
export function loadOrReport(file: string, io: CliIo): ResolvedSite | undefined {
  try {
    return loadSite(file, io.env, drivers);
  } catch (err) {
    if (err instanceof ConfigError) {
      println(io.stderr, err.format());
      println(io.stderr, `${err.issues.length} error(s) in ${file}`);
      return undefined;
    }
    throw err;
  }
}

export function validateCommand(file: string, io: CliIo): number {
  const site = loadOrReport(file, io);
  if (!site) return 1;
  println(io.stdout, `${file}: valid`);
  println(io.stdout, summarizeSite(site));
  // Valid, but worth knowing: what Home Assistant discovery cannot show.
  for (const s of sitePlan(site, drivers, packageVersion())?.skipped ?? []) {
    println(io.stdout, `warning: device '${s.device}' is left out of Home Assistant discovery: ${s.reason}`);
  }
  return 0;
}

export function planCommand(file: string, io: CliIo): number {
  const site = loadOrReport(file, io);
  if (!site) return 1;
  for (const device of site.devices) {
    const factory = drivers.find((d) => d.type === device.driver)!;
    const profile = profileLabel(device);
    println(io.stdout, `device ${device.name} (${device.driver}, every ${device.interval}${profile === undefined ? '' : `, ${profile}`})`);
    const own = driverView(device);
    let plan = factory.plan ? factory.plan(own) : own.points.map((p) => `  ${p.name}`).join('\n');
    const computed = device.points.filter(isComputed);
    if (computed.length > 0) plan += `\n  computed after each poll:\n${computed.map((p) => `    ${p.name} = ${String(p.expr)}`).join('\n')}`;
    println(io.stdout, plan.replace(/^(?!  )/gm, '  '));
  }
  return 0;
}

export function schemaCommand(io: CliIo, options: { profile?: boolean } = {}): number {
  io.stdout.write(options.profile ? profileSchemaText(drivers) : siteSchemaText(drivers));
  return 0;
}

/** Payload text for a terminal: CBOR payloads are shown decoded, as JSON, marked as such. */
function printable(payload: Buffer): string {
  if (!looksLikeCborMap(payload)) return payload.toString();
  const json = JSON.stringify(new CborCodec().decode(payload), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return `(cbor, ${payload.length} bytes) ${json}`;
}

/**
 * `fieldgate read`: polls every device once and prints topic and payload; publishes and journals
 * nothing. Listen-only devices (serial listen mode, BLE advertisements) are heard for `wait`.
 */
export async function readCommand(file: string, options: { wait?: string; logLevel: LevelWithSilent }, io: CliIo): Promise<number> {
  const site = loadOrReport(file, io);
  if (!site) return 1;
  const logger = createLogger({ level: options.logLevel, secrets: site.secrets, destination: process.stderr });
  const clock = { now: () => Date.now() };
  const resources = new SharedResourcePool();
  const cfg = site.config;
  const defaults = site.mapping;
  const print = (entries: NewEntry[]) => {
    for (const e of entries) println(io.stdout, `${e.topic} ${printable(e.render(0))}`);
  };
  // Only the drivers this site uses are imported (and with them their libraries).
  const used = drivers.filter((d) => cfg.devices.some((device) => device.driver === d.type));
  const factories = new Map(await Promise.all(used.map(async (d) => [d.type, await loadDriver(d)] as const)));
  const hosts = site.devices.map((device) => new DeviceHost({
    device, factory: factories.get(device.driver)!, defaults, logger, clock, resources, sink: print,
  }));
  let failures = 0;
  await Promise.all(hosts.map((h) => h.start({ poll: false })));
  const labels = new Map(site.devices.map((d) => [d.name, profileLabel(d)]));
  for (const host of hosts) {
    if (!host.polled) continue;
    // Which register map produced the values below.
    const label = labels.get(host.name);
    if (label !== undefined) println(io.stdout, `# ${host.name}: ${label}`);
    try {
      const readings = await host.readOnce();
      print(host.mapper.map(readings, clock.now(), true).entries);
      failures += readings.filter((r) => r.quality === 'bad').length;
    } catch (err) {
      failures += 1;
      println(io.stderr, `${host.name}: ${errorText(err)}`);
    }
  }
  const listenOnly = hosts.some((h) => !h.polled);
  for (const host of hosts) {
    const label = labels.get(host.name);
    if (!host.polled && label !== undefined) println(io.stdout, `# ${host.name}: ${label}`);
  }
  const waitMs = parseDuration(options.wait ?? (listenOnly ? '5s' : '0ms'));
  if (waitMs > 0) {
    // Listening ends early on Ctrl-C or SIGTERM, or when the reader of our output left.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      io.signals?.onStop(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  await Promise.all(hosts.map((h) => h.stop()));
  logger.flush();
  return failures > 0 ? 2 : 0;
}
