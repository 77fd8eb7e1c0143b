// One advertising device (RuuviTag, BTHome sensor): keep discovery running on the adapter, decode
// the device's ManufacturerData / ServiceData whenever BlueZ reports them and emit the configured
// fields. Only the configured address is routed here; a measurement seen before (same Ruuvi
// measurement sequence or BTHome packet id) is not emitted again.
import { Backoff, DeviceError, FieldgateError, type DriverContext, type Reading, errorText } from '../../src/driver-api/index.js';
import type { AdapterHub } from './adapter-hub.js';
import { ADVERTISEMENT_FORMATS } from './advertisement.js';
import type { DeviceUpdate } from './bluez-bus.js';
import { adapterOf, devicePath, normalizeAddress, reconnectOptions, type AdvertisementFormat, type BleDeviceConfig } from './config.js';
import type { DecodedAdvertisement } from './decoded-advertisement.js';
import { Sleeper } from './timing.js';

export class AdvertisementScanner {
  private readonly format: AdvertisementFormat;
  private readonly address: string;
  private readonly path: string;
  private readonly backoff: Backoff;
  private readonly sleeper = new Sleeper();
  private loop: Promise<void> | null = null;
  private stopped = false;
  private endCycle: (() => void) | null = null;
  private rssi: number | undefined;
  private lastKey: number | undefined;
  private faulted = false;
  /** Last adapter-level problem reported: a retry failing the same way is only logged. */
  private reported: string | null = null;

  constructor(
    private readonly device: BleDeviceConfig,
    private readonly ctx: DriverContext,
    private readonly hub: AdapterHub,
  ) {
    this.format = device.advertisement ?? 'ruuvi';
    this.address = normalizeAddress(device.address);
    this.path = devicePath(adapterOf(device), device.address);
    this.backoff = new Backoff(reconnectOptions(device));
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.wake();
    this.endCycle?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const offs: (() => void)[] = [];
      let discovering = false;
      try {
        const cycleEnded = new Promise<string>((resolve) => {
          this.endCycle = () => resolve('stopping');
          offs.push(this.hub.onLost(resolve));
        });
        // A step of the setup, abandoned when the cycle ends (stop, adapter lost) meanwhile.
        const step = <T>(p: Promise<T>): Promise<T> =>
          Promise.race([p, cycleEnded.then((reason): never => {
            throw new DeviceError('adapter', reason);
          })]);
        await step(this.hub.ready());
        discovering = true;
        await step(this.hub.acquireDiscovery());
        offs.push(this.hub.subscribe(this.path, (u) => this.onUpdate(u)));
        // Data BlueZ already holds (the device may have been seen before we subscribed).
        const current = await step(this.hub.deviceProperties(this.path));
        if (current) this.onUpdate(current);
        this.backoff.reset();
        this.reported = null;
        const reason = await cycleEnded;
        if (!this.stopped) this.reportOutage(new DeviceError('adapter', `scanning for ${this.address} stopped: ${reason}`));
      } catch (err) {
        if (!this.stopped) this.reportOutage(err);
      } finally {
        for (const off of offs) off();
        if (discovering) this.hub.releaseDiscovery();
        this.endCycle = null;
      }
      if (this.stopped) break;
      const delay = this.backoff.next();
      const offAvailable = this.hub.onAvailable(() => this.sleeper.wake());
      this.ctx.logger.debug({ address: this.address, delay, attempt: this.backoff.attempts }, 'BLE scanner: next attempt');
      await this.sleeper.sleep(delay);
      offAvailable();
    }
  }

  private onUpdate(update: DeviceUpdate): void {
    if (update.rssi !== undefined) this.rssi = update.rssi;
    const spec = ADVERTISEMENT_FORMATS[this.format];
    const payload = spec.payload(update);
    if (!payload) return;
    let decoded: DecodedAdvertisement;
    try {
      decoded = spec.decode(payload);
    } catch (err) {
      this.report('decode', new FieldgateError('decode', `${this.address} ${spec.source}: ${errorText(err)}`, { cause: err }));
      return;
    }
    if (decoded.dedupeKey !== undefined && decoded.dedupeKey === this.lastKey) return;
    this.lastKey = decoded.dedupeKey;
    if (decoded.problem) this.report('decode', new FieldgateError('decode', `${this.address} ${spec.source}: ${decoded.problem}`));

    const ts = this.ctx.clock.now();
    const readings: Reading[] = [];
    for (const p of this.device.points) {
      const field = typeof p.field === 'string' ? p.field : p.name;
      if (field === 'rssi') {
        if (this.rssi !== undefined) readings.push({ point: p.name, value: this.rssi, ts, quality: 'good' });
      } else if (field in decoded.fields) {
        readings.push({ point: p.name, value: decoded.fields[field]!, ts, quality: 'good' });
      } else if (decoded.unavailable.includes(field)) {
        readings.push({ point: p.name, value: null, ts, quality: 'bad', error: `${field} not available (the sensor sent its invalid-value marker)` });
      }
      // Otherwise this packet does not carry the field (BTHome devices may alternate objects).
    }
    if (readings.length === 0) return;
    this.ctx.emit(readings);
    if (this.faulted && !decoded.problem) {
      this.faulted = false;
      this.ctx.reportRecovered();
    }
  }

  private reportOutage(err: unknown): void {
    const text = errorText(err);
    if (text === this.reported) {
      this.ctx.logger.debug({ address: this.address, err: text }, 'BLE scanning still unavailable');
      return;
    }
    this.reported = text;
    this.report(err instanceof FieldgateError ? err.code : 'adapter', err);
  }

  private report(kind: string, err: unknown): void {
    this.faulted = true;
    this.ctx.reportError(kind, err);
  }
}
