// Runs one device: its driver, its poll cadence, its mapping and its fault state. Every call into
// the driver (start, poll, write and its read-back, stop) goes through one queue, so they never
// overlap and the driver needs no lock of its own (the contract in driver-api); a failing device
// is reported and polled again at its normal cadence, forever, while other devices are unaffected.
import type { Logger } from 'pino';
import type {
  Clock, DeviceConfigBase, Driver, DriverContext, DriverFactory, Reading, Scalar, SharedResources,
} from '../driver-api/index.js';
import { FieldgateError, errorText } from '../util/errors.js';
import { parseDuration } from '../util/duration.js';
import type { NewEntry } from '../journal/journal.js';
import { DeviceMapper, type MappingDefaults } from '../mapping/reading-mapper.js';
import { FaultState } from './fault-state.js';
import { PollLoop } from './poll-loop.js';
import { SerialQueue } from './serial-queue.js';
import type { ResolvedDevice } from '../config/resolved-site.js';
import { DeviceStatusRecorder } from './device-status.js';
import { ComputedPoints } from '../mapping/computed-points.js';
import { driverView } from '../mapping/driver-view.js';

export interface DeviceHostOptions {
  device: ResolvedDevice;
  factory: DriverFactory;
  defaults: MappingDefaults;
  logger: Logger;
  clock: Clock;
  resources: SharedResources;
  /**
   * Where mapped entries go: the journal's append queue in the gateway (which batches them), a
   * printer in the `read` command. Nothing here publishes: the forwarder does, from the journal.
   */
  sink: (entries: NewEntry[]) => void;
  onReadings?: (device: string, count: number) => void;
  onError?: (device: string, kind: string) => void;
  /** Every poll cycle, for the watchdog's notion of progress. */
  onTick?: () => void;
  /** When the device turns faulty or answers again (Home Assistant's per-device availability). */
  onHealth?: (device: string, healthy: boolean) => void;
  /** How often a device that keeps failing logs a summary; default FAULT_SUMMARY_EVERY_MS. */
  faultSummaryEveryMs?: number;
}

export class DeviceHost {
  readonly mapper: DeviceMapper;
  /** What the status page shows of this device. */
  readonly status: DeviceStatusRecorder;
  private readonly computed: ComputedPoints;
  private driver: Driver | undefined;
  private loop: PollLoop | undefined;
  private readonly queue = new SerialQueue();
  private readonly logger: Logger;
  private readonly faults: FaultState;
  /** Link faults reported during the poll in progress: such a poll is a failed one. */
  private pollFaults = 0;
  private stopped = false;
  private reportedHealthy = true;
  /** The device as its driver sees it (computed points left out), made once. */
  private readonly own: DeviceConfigBase;
  private planText: string | undefined | null = null;

  constructor(private readonly options: DeviceHostOptions) {
    this.logger = options.logger.child({ device: options.device.name });
    this.mapper = new DeviceMapper(options.device, options.defaults);
    this.status = new DeviceStatusRecorder(options.device.points);
    this.computed = new ComputedPoints(options.device.points);
    this.own = driverView(options.device);
    this.faults = new FaultState({ logger: this.logger, clock: options.clock, summaryEveryMs: options.faultSummaryEveryMs });
  }

  get name(): string {
    return this.options.device.name;
  }

  get config(): DeviceConfigBase {
    return this.options.device;
  }

  get healthy(): boolean {
    return !this.faults.faulty;
  }

  get canWrite(): boolean {
    return typeof this.driver?.write === 'function';
  }

  /** Whether this device is polled at its interval (false for listen-only devices): asked here only. */
  get polled(): boolean {
    return this.options.factory.polled(this.own);
  }

  /** The driver's commissioning view (`plan`), worked out on first request: the device never changes. */
  get plan(): string | undefined {
    if (this.planText === null) this.planText = this.options.factory.plan?.(this.own);
    return this.planText;
  }

  /** Creates and starts the driver and its poll loop (when polled). Driver start failures are logged, not thrown. */
  async start(options: { poll?: boolean } = {}): Promise<void> {
    const { device, factory, clock } = this.options;
    // Computed points are evaluated here, after each poll: the driver never sees them.
    const driver = factory.create(this.own, this.context());
    this.driver = driver;
    try {
      await this.queue.run(() => driver.start());
    } catch (err) {
      // Drivers should retry internally; if one still throws, report it and keep polling anyway:
      // the poll path reports the fault on every cycle and recovers when the device does.
      this.fault('start', err);
    }
    if (options.poll !== false && this.polled && typeof driver.poll === 'function' && !this.stopped) {
      this.loop = new PollLoop({
        intervalMs: device.intervalMs,
        clock,
        run: () => this.queue.run(() => this.pollAndRecord()),
        onTick: (skipped) => {
          if (skipped > 0) this.logger.debug({ skipped }, 'poll overran its interval; skipped ticks');
          this.options.onTick?.();
        },
      });
      this.loop.start();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop?.stop();
    const driver = this.driver;
    if (!driver) return;
    // Queued behind a poll or write in progress; anything asked for after this is refused.
    await this.queue.run(async () => {
      try {
        await driver.stop();
      } catch (err) {
        this.logger.warn({ err: errorText(err) }, 'driver did not stop cleanly');
      }
    });
  }

  /** One poll whose readings (computed points included) are returned, not recorded (the `read` command). */
  async readOnce(): Promise<Reading[]> {
    const driver = this.driver;
    if (!driver?.poll || this.stopped) return [];
    const readings = await this.queue.run(() => driver.poll!());
    return [...this.computed.extend(readings, this.options.clock.now())];
  }

  /** Writes a raw value, then reads the device back and records that point regardless of deadband. */
  async write(point: string, raw: Scalar): Promise<void> {
    const driver = this.driver;
    if (!driver?.write) throw new FieldgateError('not_writable', `device ${this.name} does not accept writes`);
    if (this.stopped) throw new FieldgateError('device_stopped', `device ${this.name} is stopping`, { kind: 'retryable' });
    // A write asked for before stop() still runs: stop() queues behind it.
    await this.queue.run(async () => {
      await driver.write!(point, raw);
      if (!driver.poll) return;
      try {
        const readings = await driver.poll();
        this.record(readings.filter((r) => r.point === point), true);
      } catch (err) {
        this.fault(kindOf(err), err);
      }
    });
  }

  private async pollAndRecord(): Promise<void> {
    this.pollFaults = 0;
    this.status.polled();
    let readings: Reading[];
    try {
      readings = await this.driver!.poll!();
    } catch (err) {
      this.fault(kindOf(err), err);
      this.faults.pollFailed();
      const ts = this.options.clock.now();
      const error = errorText(err);
      this.record(this.options.device.points.map((p) => ({ point: p.name, value: null, quality: 'bad' as const, error, ts })), false);
      return;
    }
    // A poll that returned but during which the driver reported a fault (one request of several
    // refused, say) is not a recovery: it used to log "fault" and "answers again" at every poll.
    if (this.pollFaults > 0) this.faults.pollFailed();
    else this.recovered();
    this.record(readings, false);
  }

  /** Maps readings to entries and hands them to the sink (the journal). */
  private record(driverReadings: readonly Reading[], force: boolean): void {
    if (driverReadings.length === 0) return;
    const readings = this.computed.extend(driverReadings, this.options.clock.now());
    this.status.readings(readings, this.options.clock.now());
    const { entries, unknown } = this.mapper.map(readings, this.options.clock.now(), force);
    if (unknown.length > 0) this.logger.warn({ points: unknown }, 'driver reported points that are not configured');
    this.options.onReadings?.(this.name, readings.length - unknown.length);
    if (entries.length > 0) this.options.sink(entries);
  }

  private fault(kind: string, err: unknown): void {
    this.options.onError?.(this.name, kind);
    this.status.fault(kind, err, this.options.clock.now());
    if (DATA_FAULTS.has(kind)) {
      // A garbage line or a malformed advertisement says nothing about the link: count it, keep
      // the device's state, and log it where a flood of them cannot drown real faults.
      this.logger.debug({ kind, err: errorText(err) }, 'bad data from device');
      return;
    }
    this.pollFaults += 1;
    this.faults.fault(kind, err);
    this.healthChanged();
  }

  private recovered(): void {
    this.faults.recovered();
    this.healthChanged();
  }

  private healthChanged(): void {
    if (this.healthy === this.reportedHealthy) return;
    this.reportedHealthy = this.healthy;
    this.options.onHealth?.(this.name, this.healthy);
  }

  private context(): DriverContext {
    return {
      logger: this.logger,
      clock: this.options.clock,
      emit: (readings) => this.record(readings, false),
      reportError: (kind, err) => this.fault(kind, err),
      reportRecovered: () => this.recovered(),
      resources: this.options.resources,
    };
  }
}

const DATA_FAULTS = new Set(['parse', 'decode', 'overflow']);

function kindOf(err: unknown): string {
  if (err instanceof FieldgateError) return err.code;
  return 'poll';
}
