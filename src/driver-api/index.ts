// The driver API: the only module a driver in drivers/<protocol>/ may import from src/.
// Everything a driver needs from the core is reachable from here, so a driver folder stays
// self-contained and the core can change its internals freely.
import type { PayloadEncoding, PayloadFormat } from '../mapping/payload.js';
import type { Logger } from 'pino';

export type { Logger } from 'pino';
export { parseDuration, formatDuration } from '../util/duration.js';
export { Backoff, type BackoffOptions } from '../util/backoff.js';
export { FieldgateError, DeviceError, CommandError, errorText, type ErrorKind } from '../util/errors.js';
export { SerialQueue } from '../scheduler/serial-queue.js';
// One rule for numbers in commands, one for bounded quoting, one for unsafe characters: drivers use
// these instead of Number(), JSON.stringify(value) or their own control-character regex.
export {
  readCommandNumber, toExactInteger, toIntegerIn, toFiniteNumber, parseDecimal, type Decimal,
} from '../util/command-number.js';
export { boundedText, boundedValue, quoteValue, QUOTE_LIMIT } from '../util/quote-value.js';
export { unsafeCommandChar } from '../util/command-text.js';
export { durationSchema, type DurationRange } from '../config/schema-units.js';
export { withTimeout } from '../util/with-timeout.js';
export { mergeDefaults } from '../util/merge-defaults.js';

/** Wall clock in epoch milliseconds; injected so tests control time. */
export interface Clock {
  now(): number;
}

export type Scalar = number | boolean | string | bigint;

/**
 * One acquired value. Drivers report raw values: scale/offset, topics and payloads are the
 * core's job. A point that could not be read is reported with quality 'bad', value null and an
 * error text, never with a made-up value.
 */
export interface Reading {
  point: string;
  value: Scalar | null;
  /** Acquisition time, epoch ms; defaults to the time the core received the reading. */
  ts?: number;
  quality?: 'good' | 'bad';
  error?: string;
}

/** Keys every point has, whatever its driver. Drivers add their own keys through pointSchema. */
export interface PointConfigBase {
  name: string;
  topic?: string;
  qos?: 0 | 1 | 2;
  retain?: boolean;
  unit?: string;
  scale?: number;
  offset?: number;
  deadband?: number;
  heartbeat?: string;
  writable?: boolean;
  min?: number;
  max?: number;
  /** A computed point: an expression over the device's other points; no driver keys. */
  expr?: string;
  [key: string]: unknown;
}

/** Keys every device has, whatever its driver. */
export interface DeviceConfigBase {
  name: string;
  driver: string;
  interval?: string;
  topic?: string;
  payload?: PayloadFormat;
  payload_encoding?: PayloadEncoding;
  tags?: Record<string, string>;
  /** The profile the device was built from (the core expands it before any driver sees the device). */
  profile?: string;
  /** That profile's `version:`, when it has one. */
  profile_version?: string;
  points: PointConfigBase[];
  [key: string]: unknown;
}

/** A problem found in a device's configuration; path is relative to the device object. */
export interface ConfigIssue {
  path: (string | number)[];
  message: string;
}

/**
 * A physical resource a device claims (a serial port, say). Two devices may claim the same id
 * only when both give the same non-empty `share` token (e.g. Modbus RTU devices with identical
 * port settings on one RS-485 bus); anything else is a configuration error.
 */
export interface ResourceClaim {
  id: string;
  share?: string;
  /** Human description used in conflict messages, e.g. "Modbus RTU 9600 8N1". */
  describe?: string;
}

/**
 * Reference-counted objects shared by the devices of one gateway (an RS-485 bus, a BLE adapter).
 * The first acquire creates, the last release disposes. Keeps drivers free of module-level state.
 */
export interface SharedResources {
  acquire<T>(key: string, create: () => T, dispose: (value: T) => Promise<void> | void): T;
  release(key: string): Promise<void>;
}

export interface DriverContext {
  /** Child logger bound to { device }. */
  logger: Logger;
  clock: Clock;
  /** Push readings acquired outside poll() (listen mode, notifications, advertisements). */
  emit(readings: Reading[]): void;
  /**
   * Count and log a device fault; kind is a short stable label such as "timeout" or "crc".
   * The error's message must be stable too — the same failure, the same text, with no retry
   * delays, counters or raw bytes in it (those go in its `cause`): it becomes the `error` of
   * published readings, and the core logs once per outage and kind.
   * Kinds 'parse', 'decode' and 'overflow' mean bad data on a working link: counted, logged at
   * debug, and they do not mark the device as faulty.
   */
  reportError(kind: string, err: unknown): void;
  /** Report that the device answers again after faults (clears the device's error state). */
  reportRecovered(): void;
  resources: SharedResources;
}

/**
 * Lifecycle: the constructor (create) only stores its arguments; start()/stop() do the work.
 *
 * What the host (src/scheduler/device-host.ts) guarantees, so a driver needs no lock of its own
 * for its device: start, poll, write and stop of one driver never overlap — each waits for the
 * previous one to settle — start comes first, stop comes last, and nothing is called after stop.
 * Only emit/reportError/reportRecovered may be called by the driver at any time (listen mode,
 * notifications). What several devices share (an RS-485 bus, a BLE adapter) is serialised by the
 * shared resource the drivers acquire, not by the host.
 */
export interface Driver {
  /**
   * Open connections and subscriptions. Must not reject for conditions that can heal
   * (port missing, device off, BlueZ absent): report them and retry internally, forever.
   */
  start(): Promise<void>;
  /** Close everything; must resolve even when the device is unreachable. */
  stop(): Promise<void>;
  /**
   * Read every point once. Called by the scheduler each interval (and after a write, to read the
   * point back), never concurrently with start, stop, write or itself.
   * Rejects with a DeviceError when the device cannot be read at all; per-point failures are
   * readings with quality 'bad'.
   */
  poll?(): Promise<Reading[]>;
  /**
   * Write a raw value (already range-checked and un-scaled by the core) to a writable point.
   * Rejects with CommandError for invalid requests and DeviceError for transport failures.
   */
  write?(point: string, value: Scalar): Promise<void>;
}

export interface JsonSchemaFragment {
  properties: Record<string, object>;
  required?: string[];
}

/**
 * What the core knows about a driver without loading its implementation: enough to validate a site
 * file, print its schema and plan, and claim resources. Must not import the driver's libraries.
 */
export interface DriverDescriptor<D extends DeviceConfigBase = DeviceConfigBase> {
  /** The `driver:` value in the site file. */
  type: string;
  /** One-line description for `fieldgate validate` summaries and docs. */
  description: string;
  /** JSON Schema properties of the driver's device keys (beyond DeviceConfigBase). */
  deviceSchema: JsonSchemaFragment;
  /** JSON Schema properties of the driver's point keys (beyond PointConfigBase). */
  pointSchema: JsonSchemaFragment;
  /** Whether the scheduler should poll this device at `interval` (false for listen-only devices). */
  polled(device: D): boolean;
  /** Semantic checks after the schema passed; no I/O. */
  check?(device: D): ConfigIssue[];
  resources?(device: D): ResourceClaim[];
  /** Human-readable commissioning view (`fieldgate plan`). */
  plan?(device: D): string;
  /**
   * The driver's own defaults, in one place: returns the device with every key the driver defaults
   * filled in (may depend on the device, e.g. a timeout only in request mode). The core applies it
   * after its own defaults and before check, resources, plan and create, so they all see the same
   * device; drivers then need no `?? default` of their own.
   */
  withDefaults?(device: D): D;
  /**
   * What kind of value a point carries, when the configuration tells (a Modbus coil is a boolean):
   * Home Assistant discovery shows a writable boolean as a switch, a number as a number.
   */
  valueType?(device: D, point: D['points'][number]): PointValueType | undefined;

  /**
   * The device key one site-file entry may list several values of, making one device per value
   * (`unit_id: [1, 3, "5-12"]`); `ranges`: integer ranges such as "5-12" are accepted. The core
   * expands the list before the schema sees the device, so the schema keeps a single value.
   */
  fanOut?: { key: string; ranges: boolean };
}

export type PointValueType = 'number' | 'boolean' | 'text';

export interface DriverFactory<D extends DeviceConfigBase = DeviceConfigBase> extends DriverDescriptor<D> {
  /** No I/O here: store arguments, compile plans. */
  create(device: D, ctx: DriverContext): Driver;
}

/**
 * A driver as drivers/index.ts lists it: the descriptor, and `load()` importing the implementation
 * (and with it serialport, D-Bus/BLE or modbus-serial) only when a site has a device of that driver:
 * a gateway on 512 MB should not carry a BLE stack for a Modbus-only site.
 */
export interface DriverRegistration<D extends DeviceConfigBase = DeviceConfigBase> extends DriverDescriptor<D> {
  load(): Promise<DriverFactory<D>>;
}

/** Either form; tests and benchmarks pass factories directly. */
export type DriverEntry = DriverFactory | DriverRegistration;

/** The factory of an entry, importing the implementation if it is a registration. */
export async function loadDriver(entry: DriverEntry): Promise<DriverFactory> {
  return 'create' in entry ? entry : entry.load();
}
