// Site-file validation in stages, collecting every problem before giving up:
//   1. YAML → values with positions (syntax, duplicate keys, ${VAR})   — yaml-source.ts
//   2. top-level schema, then each device against its own driver's schema — site-schema.ts
//   3. semantic checks on the parts that passed                          — *-checks.ts
// Only a file with no problem at all gets its defaults filled in and is returned.
import { isRecord } from '../util/is-record.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import type { DeviceConfigBase, DriverDescriptor } from '../driver-api/index.js';
import { parseDuration, parseSize } from '../util/duration.js';
import type { CheckContext, CheckedDevice } from './check-context.js';
import { ConfigError, type SiteIssue } from './config-error.js';
import { scrubSecrets, writtenSecrets } from './secret-scrub.js';
import { applyDefaults, SITE_DEFAULTS, withDeviceDefaults, type DeviceInheritance } from './defaults.js';
import { checkDrivers } from './driver-checks.js';
import { checkComputedPoints } from './computed-checks.js';
import { at, describeSchemaErrors, type PathIssue } from './schema-errors.js';
import { checkSite } from './site-checks.js';
import { checkBufferPath } from './buffer-checks.js';
import type { SiteConfig } from './site-config.js';
import { resolveSite, type ResolvedSite } from './resolved-site.js';
import { deviceSchemaFor, topLevelSchema } from './site-schema.js';
import { addUnitKeywords } from './schema-units.js';
import { RELOAD_KEYWORD } from './reload-plan.js';
import { didYouMean } from './suggest.js';
import { checkTopics } from './topic-checks.js';
import { checkPayloads } from './payload-checks.js';
import { checkRemoteConfig } from './remote-config-checks.js';
import { parseSource, type ParsedSource } from './yaml-source.js';
import { expandDevices, type ExpandedSite } from './expand-devices.js';
import { IssuePlacer } from './expanded-issues.js';
import { createProfileLibrary, shippedProfilesDir } from './profile-library.js';
import { corePointProperties } from './site-schema.js';

export interface ValidateOptions {
  /** Default for `gateway`; os.hostname() when absent. */
  hostname?: string;
  /** The profile library searched after the site's own profiles; default: the one shipped with fieldgate; null: none. */
  profileLibrary?: string | null;
}

/**
 * Validates site-file text. `file` is used for messages and to resolve relative paths (files
 * named in the site file are checked and password_file is read). Returns the defaulted config or
 * throws ConfigError with every problem found.
 */
export function validateSiteText(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv,
  drivers: readonly DriverDescriptor[],
  options: ValidateOptions = {},
): ResolvedSite {
  return new SiteValidator(drivers).validate(text, file, env, options);
}

/**
 * validateSiteText with the compiled schemas kept: compiling costs tens of milliseconds, so
 * code that validates many files (tests, reload loops) holds one of these.
 */
export class SiteValidator {
  private ajvInstance: Ajv | undefined;
  private topLevel: ValidateFunction | undefined;
  private readonly perDriver = new Map<string, ValidateFunction>();

  constructor(private readonly drivers: readonly DriverDescriptor[]) {}

  private get ajv(): Ajv {
    this.ajvInstance ??= createAjv();
    return this.ajvInstance;
  }

  validate(text: string, file: string, env: NodeJS.ProcessEnv, options: ValidateOptions = {}): ResolvedSite {
    const source = parseSource(text, env);
    const issues: SiteIssue[] = source.issues.map((i) => issueAt(file, source, i.offset, i.message));
    // Every secret the file reveals, known before any message is made: no message may quote one.
    const secrets = [...source.envSecrets, ...writtenSecrets(source.value)];
    const invalid = (found: SiteIssue[]): ConfigError => {
      const known = secrets.filter((s) => s !== '');
      return new ConfigError(found.map((i) => ({ ...i, message: scrubSecrets(i.message, known) })), { secrets: known });
    };
    if (source.syntaxBroken) throw invalid(issues);
    if (source.value === null) {
      throw invalid([...issues, { file, line: 1, col: 1, message: 'the site file is empty' }]);
    }

    const expanded = this.expand(source, file, env, options);
    for (const w of [...expanded.envSecrets, ...writtenSecrets(expanded.value)]) secrets.push(w);
    const placer = new IssuePlacer(expanded.map);
    for (const i of expanded.fileIssues) placer.addOffset(i.doc, i.offset, i.message);
    for (const i of expanded.issues) placer.addExpand(i);
    const value = expanded.value;

    // Values the YAML layer already reported (unset ${VAR}, bad alias) get no second message.
    const brokenSet = new Set(expanded.broken);
    const broken = (pointer: string): boolean => selfOrAncestors(pointer).some((p) => brokenSet.has(p));
    const pathIssues: PathIssue[] = [];
    this.topLevel ??= this.ajv.compile(topLevelSchema());
    // Loops, not push(...list): a list of 100,000 errors spread into arguments overflows the stack.
    if (!this.topLevel(value)) for (const p of describeSchemaErrors(this.topLevel.errors ?? [], '')) pathIssues.push(p);
    const root = isRecord(value) ? value : undefined;
    const candidates = root ? this.checkDevices(root, pathIssues) : [];

    // Unknown keys do not make the rest of their object unusable for the semantic checks.
    // A pointer is valid when no problem sits at it or below it: every problem marks itself and its
    // ancestors once, so the checks' many isValid calls stay cheap on a file with thousands of errors.
    const notValid = new Set<string>();
    for (const bad of [...pathIssues.filter((p) => !p.unknownKey).map((p) => p.pointer), ...expanded.broken]) {
      for (const p of selfOrAncestors(bad)) notValid.add(p);
    }
    const isValid = (pointer: string): boolean => !notValid.has(pointer);
    const hostname = options.hostname ?? os.hostname();
    const gateway = root && typeof root.gateway === 'string' && isValid('/gateway') ? root.gateway : hostname;

    let ctx: CheckContext | undefined;
    if (root) {
      const inherited = inheritance(root, isValid);
      ctx = {
        root,
        dir: path.dirname(path.resolve(file)),
        env,
        gateway,
        devices: candidates
          .filter((d) => isValid(d.pointer))
          .map((d) => ({ ...d, config: withDeviceDefaults(d.written, inherited, d.driver) })),
        isValid,
        lineOf: (pointer) => {
          const { doc, offset } = expanded.map.offsetOf(pointer, 'value');
          return doc.source.lineCounter.linePos(offset).line;
        },
        report: (pointer, where, message, column) => pathIssues.push({ pointer, at: where, message, column }),
        secrets,
        files: new Map(),
      };
      checkSite(ctx);
      checkBufferPath(ctx);
      checkPayloads(ctx);
      checkTopics(ctx);
      checkComputedPoints(ctx);
      checkDrivers(ctx);
      checkRemoteConfig(ctx);
    }

    for (const p of pathIssues) if (!broken(p.pointer)) placer.addPath(p);
    for (const i of placer.issues()) issues.push(i);
    if (ctx?.passwordFromFile !== undefined) secrets.push(ctx.passwordFromFile);
    if (ctx?.tokenFromFile !== undefined) secrets.push(ctx.tokenFromFile);
    if (issues.length > 0 || !root || !ctx) throw invalid(issues);

    const config = applyDefaults(root as unknown as SiteConfig, {
      dir: ctx.dir,
      env,
      hostname,
      passwordFromFile: ctx.passwordFromFile,
      tokenFromFile: ctx.tokenFromFile,
      drivers: this.drivers,
    });
    if (config.mqtt.password !== undefined) secrets.push(config.mqtt.password);
    if (config.http?.token !== undefined) secrets.push(config.http.token);
    return resolveSite(config, path.resolve(file), [...new Set(secrets.filter((s) => s !== ''))], ctx.files);
  }

  /** Devices built from their profiles and fanned out; see expand-devices.ts. */
  private expand(source: ParsedSource, file: string, env: NodeJS.ProcessEnv, options: ValidateOptions): ExpandedSite & { envSecrets: string[] } {
    const dir = path.dirname(path.resolve(file));
    const root = isRecord(source.value) ? source.value : {};
    const paths = Array.isArray(root.profile_paths) ? root.profile_paths.filter((p): p is string => typeof p === 'string') : [];
    const shipped = options.profileLibrary === undefined ? shippedProfilesDir() : options.profileLibrary;
    const dirs = [path.join(dir, 'profiles'), ...paths.map((p) => path.resolve(dir, p)), ...(shipped ? [shipped] : [])];
    const site = { file, source };
    const library = createProfileLibrary({ site, inline: isRecord(root.profiles) ? root.profiles : undefined, dirs, env });
    const overridable = Object.keys(corePointProperties()).filter((k) => k !== 'name');
    const expanded = expandDevices({ site, library, overridable, fanOut: (type) => this.drivers.find((d) => d.type === type)?.fanOut });
    // A listed directory that is not there is a typo, not an empty library.
    if (Array.isArray(root.profile_paths)) {
      root.profile_paths.forEach((p: unknown, i) => {
        if (typeof p !== 'string' || isDirectory(path.resolve(dir, p))) return;
        const pointer = `/profile_paths/${i}`;
        expanded.issues.push({ doc: site, pointer, at: 'value', message: at(pointer, `no directory ${path.resolve(dir, p)}`) });
      });
    }
    return { ...expanded, envSecrets: library.envSecrets() };
  }

  /** Checks each device against its driver's schema; returns those with a known driver (config as written). */
  private checkDevices(root: Record<string, unknown>, pathIssues: PathIssue[]): CheckedDevice[] {
    if (!Array.isArray(root.devices)) return [];
    const out: CheckedDevice[] = [];
    root.devices.forEach((device: unknown, index) => {
      const pointer = `/devices/${index}`;
      if (!isRecord(device) || typeof device.driver !== 'string') return;
      const driver = this.drivers.find((d) => d.type === device.driver);
      if (!driver) {
        const known = this.drivers.map((d) => d.type);
        const message = `unknown driver '${device.driver}'${didYouMean(device.driver, known)} (known drivers: ${known.join(', ') || 'none'})`;
        pathIssues.push({ pointer: `${pointer}/driver`, at: 'value', message: at(`${pointer}/driver`, message) });
        return;
      }
      const validate = this.driverValidator(driver);
      if (!validate(device)) for (const p of describeSchemaErrors(validate.errors ?? [], pointer)) pathIssues.push(p);
      const written = device as unknown as DeviceConfigBase;
      out.push({ index, pointer, driver, written, config: written });
    });
    return out;
  }

  private driverValidator(driver: DriverDescriptor): ValidateFunction {
    let validate = this.perDriver.get(driver.type);
    if (!validate) {
      try {
        validate = this.ajv.compile(deviceSchemaFor(driver));
      } catch (err) {
        // A bug in a driver's schema, not in the site file: say whose it is.
        throw new Error(`the JSON Schema of driver '${driver.type}' is invalid: ${(err as Error).message}`, { cause: err });
      }
      this.perDriver.set(driver.type, validate);
    }
    return validate;
  }
}

function createAjv(): Ajv {
  // verbose: the messages quote the offending value and list the allowed keys.
  const ajv = new Ajv({ allErrors: true, strict: true, verbose: true, allowUnionTypes: true });
  addUnitKeywords(ajv);
  // Annotation only: what a reload does when the key changes (reload-plan.ts).
  ajv.addKeyword({ keyword: RELOAD_KEYWORD, schemaType: 'array' });
  return ajv;
}

/** Top-level values devices inherit; the built-in defaults stand in for invalid ones. */
function inheritance(root: Record<string, unknown>, isValid: (p: string) => boolean): DeviceInheritance {
  const mqtt = isRecord(root.mqtt) ? root.mqtt : {};
  const pick = <T>(value: unknown, pointer: string, fallback: T): T =>
    value !== undefined && isValid(pointer) ? (value as T) : fallback;
  return {
    topic: pick(root.topic, '/topic', SITE_DEFAULTS.topic),
    payload: pick(root.payload, '/payload', SITE_DEFAULTS.payload),
    payload_encoding: pick(root.payload_encoding, '/payload_encoding', SITE_DEFAULTS.payload_encoding),
    qos: pick(mqtt.qos, '/mqtt/qos', SITE_DEFAULTS.mqtt.qos),
  };
}

/** '/a/b/c' → ['/a/b/c', '/a/b', '/a', '']. */
function selfOrAncestors(pointer: string): string[] {
  const out = [pointer];
  for (let i = pointer.lastIndexOf('/'); i >= 0; i = pointer.lastIndexOf('/', i - 1)) {
    out.push(pointer.slice(0, i));
    if (i === 0) break;
  }
  return out;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}


function issueAt(file: string, source: ParsedSource, offset: number, message: string): SiteIssue {
  const { line, col } = source.lineCounter.linePos(offset);
  return { file, line, col, message };
}
