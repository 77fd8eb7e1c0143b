// One GATT device: connect (one attempt at a time per adapter), resolve the characteristics of the
// plan, subscribe notifications, then wait for the link to end — Connected=false, the device or
// adapter gone, bluetoothd or the bus gone — and start over after a backoff, forever, until stop().
// The backoff starts over only after a link that lasted at least `reconnect.max`: a device at the
// edge of range that connects and drops at once would otherwise be reconnected (and logged) at the
// shortest delay for ever; this way it settles at one attempt per `reconnect.max`.
import { performance } from 'node:perf_hooks';
import {
  Backoff,
  CommandError,
  DeviceError,
  FieldgateError,
  parseDuration,
  type DriverContext,
  type Reading,
  type Scalar,
  withTimeout,
  errorText,
} from '../../src/driver-api/index.js';
import type { AdapterHub } from './adapter-hub.js';
import { dbusErrorName } from './bluez-bus.js';
import { DEFAULTS, adapterOf, devicePath, normalizeAddress, reconnectOptions, shortUuid, type BleDeviceConfig } from './config.js';
import { badReading, compileGattPlan, readingsFromValue, type CharacteristicGroup, type GattPlan } from './gatt-plan.js';
import { GattSession, type NodeBleCharacteristic, type NodeBleDevice } from './gatt-session.js';
import { Sleeper } from './timing.js';
import { encodeValue } from './value-codec.js';

/** D-Bus errors after which the connection is certainly gone. */
const LINK_GONE = new Set([
  'org.bluez.Error.NotConnected',
  'org.freedesktop.DBus.Error.UnknownObject',
  'org.freedesktop.DBus.Error.UnknownMethod',
  'org.freedesktop.DBus.Error.NoReply',
  'org.freedesktop.DBus.Error.Disconnected',
]);

async function bestEffort(p: Promise<unknown>): Promise<void> {
  await p.catch(() => undefined);
}

/** One connection: the node-ble objects, and a promise that settles with the reason it ended. */
class Link {
  readonly chars = new Map<string, NodeBleCharacteristic>();
  readonly missing = new Map<string, string>();
  readonly notifying: NodeBleCharacteristic[] = [];
  readonly cleanups: (() => void)[] = [];
  readonly lost: Promise<string>;
  private resolveLost!: (reason: string) => void;
  private ended = false;

  constructor(
    readonly session: GattSession,
    readonly device: NodeBleDevice,
  ) {
    this.lost = new Promise((resolve) => {
      this.resolveLost = resolve;
    });
  }

  get isLost(): boolean {
    return this.ended;
  }

  lose(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.resolveLost(reason);
  }
}

export class GattLink {
  private readonly plan: GattPlan;
  private readonly address: string;
  private readonly path: string;
  private readonly connectTimeoutMs: number;
  private readonly timeoutMs: number;
  private readonly backoff: Backoff;
  /** A link that lasted this long (reconnect.max) earns a fresh backoff. */
  private readonly stableAfterMs: number;
  private readonly sleeper = new Sleeper();
  private link: Link | null = null;
  private connecting: Link | null = null;
  private loop: Promise<void> | null = null;
  private stopped = false;
  /** Called by stop(): reject whatever the loop is waiting for. */
  private readonly stopHooks = new Set<() => void>();
  private lastProblem = 'not connected yet';
  /** What was last reported: a retry failing the same way is only logged (once per outage). */
  private reported: string | null = null;

  constructor(
    private readonly device: BleDeviceConfig,
    private readonly ctx: DriverContext,
    private readonly hub: AdapterHub,
  ) {
    this.plan = compileGattPlan(device);
    this.address = normalizeAddress(device.address);
    this.path = devicePath(adapterOf(device), device.address);
    this.connectTimeoutMs = parseDuration(device.connect_timeout ?? DEFAULTS.connect_timeout);
    this.timeoutMs = parseDuration(device.timeout ?? DEFAULTS.timeout);
    const reconnect = reconnectOptions(device);
    this.backoff = new Backoff(reconnect);
    this.stableAfterMs = reconnect.maxMs;
  }

  get connected(): boolean {
    return this.link !== null && !this.link.isLost;
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const hook of [...this.stopHooks]) hook();
    this.sleeper.wake();
    this.link?.lose('stopping');
    this.connecting?.lose('stopping');
    await this.loop;
  }

  async poll(): Promise<Reading[]> {
    const link = this.link;
    if (!link || link.isLost) throw new DeviceError('not_connected', `${this.address} is not connected (${this.lastProblem})`);
    const readings: Reading[] = [];
    for (const group of this.plan.groups) {
      const points = group.points.filter((p) => p.mode === 'read');
      if (points.length === 0) continue;
      const ts = this.ctx.clock.now();
      const ch = link.chars.get(group.key);
      if (!ch) {
        const why = link.missing.get(group.key) ?? `${group.label} not resolved`;
        for (const p of points) readings.push(badReading(p.name, ts, why));
        continue;
      }
      try {
        const value = await withTimeout(ch.readValue(), this.timeoutMs, `read of ${group.label} on ${this.address}`);
        for (const r of readingsFromValue(points, value, this.ctx.clock.now())) readings.push(r);
      } catch (err) {
        if (LINK_GONE.has(dbusErrorName(err) ?? '')) {
          link.lose(`read failed: ${errorText(err)}`);
          throw new DeviceError('not_connected', `${this.address} disconnected during read: ${errorText(err)}`, { cause: err });
        }
        for (const p of points) readings.push(badReading(p.name, ts, `read of ${group.label} failed: ${errorText(err)}`));
      }
    }
    return readings;
  }

  async write(pointName: string, value: Scalar): Promise<void> {
    const entry = this.plan.byPoint.get(pointName);
    if (!entry) throw new CommandError('unknown_point', `${this.device.name} has no point ${pointName}`);
    if (!entry.point.writable) throw new CommandError('not_writable', `point ${pointName} is not writable`);
    const bytes = encodeValue(entry.point.type, value);
    const link = this.link;
    if (!link || link.isLost) throw new DeviceError('not_connected', `${this.address} is not connected (${this.lastProblem})`);
    const ch = link.chars.get(entry.group.key);
    if (!ch) throw new DeviceError('gatt', link.missing.get(entry.group.key) ?? `${entry.group.label} not resolved`);
    try {
      await withTimeout(ch.writeValue(bytes, { type: entry.point.writeMode }), this.timeoutMs, `write of ${entry.group.label} on ${this.address}`);
    } catch (err) {
      if (LINK_GONE.has(dbusErrorName(err) ?? '')) link.lose(`write failed: ${errorText(err)}`);
      throw new DeviceError('write_failed', `write of ${pointName} to ${this.address} failed: ${errorText(err)}`, { cause: err });
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.guard(this.hub.ready());
        const link = await this.establish();
        this.link = link;
        const upSince = performance.now();
        this.lastProblem = 'link lost';
        this.reported = null;
        this.ctx.reportRecovered();
        this.ctx.logger.info({ address: this.address }, 'BLE device connected');
        const reason = await link.lost;
        if (performance.now() - upSince >= this.stableAfterMs) this.backoff.reset();
        this.link = null;
        await this.teardown(link, this.stopped);
        if (this.stopped) break;
        this.lastProblem = reason;
        this.report('link_lost', new DeviceError('link_lost', `${this.address}: ${reason}`));
      } catch (err) {
        if (this.stopped) break;
        this.lastProblem = errorText(err);
        this.report(err instanceof FieldgateError ? err.code : 'connect', err);
      }
      const delay = this.backoff.next();
      const offAvailable = this.hub.onAvailable(() => this.sleeper.wake());
      this.ctx.logger.debug({ address: this.address, delay, attempt: this.backoff.attempts }, 'BLE device: next connection attempt');
      await this.sleeper.sleep(delay);
      offAvailable();
    }
  }

  private report(kind: string, err: unknown): void {
    const text = errorText(err);
    if (text === this.reported) {
      this.ctx.logger.debug({ address: this.address, err: text }, 'BLE device still unavailable');
      return;
    }
    this.reported = text;
    this.ctx.reportError(kind, err);
  }

  /** Rejects as soon as stop() is called, so stop never waits for a connect timeout. */
  private guard<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onStop = (): void => reject(new DeviceError('stopped', 'driver stopped'));
      if (this.stopped) return onStop();
      this.stopHooks.add(onStop);
      p.then(
        (value) => {
          this.stopHooks.delete(onStop);
          resolve(value);
        },
        (err: unknown) => {
          this.stopHooks.delete(onStop);
          reject(err);
        },
      );
    });
  }

  private async establish(): Promise<Link> {
    if (!(await this.guard(this.hub.deviceProperties(this.path)))) {
      try {
        await this.guard(this.hub.acquireDiscovery());
        await this.guard(this.waitForDevice());
      } finally {
        this.hub.releaseDiscovery();
      }
    }
    const link = await this.guard(this.hub.serialize(() => this.connectLocked()));
    await this.subscribe(link);
    if (link.isLost) {
      await this.teardown(link, false);
      throw new DeviceError('link_lost', `${this.address} disconnected while being set up`);
    }
    return link;
  }

  /** BlueZ only connects devices it has seen; run discovery until this one shows up. */
  private waitForDevice(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        off();
        this.stopHooks.delete(onStop);
        if (err) reject(err);
        else resolve();
      };
      const onStop = (): void => finish(new DeviceError('stopped', 'driver stopped'));
      const timer = setTimeout(
        () => finish(new DeviceError('not_found', `${this.address} not seen by ${this.hub.adapter} within ${this.connectTimeoutMs} ms; is it powered and in range?`)),
        this.connectTimeoutMs,
      );
      const off = this.hub.subscribe(this.path, (u) => {
        if (!u.removed) finish();
      });
      this.stopHooks.add(onStop);
      // It may have appeared between the first look and the subscription.
      this.hub.deviceProperties(this.path).then(
        (props) => {
          if (props) finish();
        },
        () => undefined,
      );
    });
  }

  private async connectLocked(): Promise<Link> {
    if (this.stopped) throw new DeviceError('stopped', 'driver stopped');
    const session = new GattSession();
    let link: Link | null = null;
    try {
      const adapter = await withTimeout(session.bluetooth.getAdapter(this.hub.adapter), this.timeoutMs, 'adapter lookup');
      const device = await withTimeout(adapter.getDevice(this.address), this.timeoutMs, `lookup of ${this.address}`);
      link = new Link(session, device);
      this.connecting = link;
      this.watch(link);
      try {
        await withTimeout(device.connect(), this.connectTimeoutMs, `connect to ${this.address}`);
      } catch (err) {
        if (dbusErrorName(err) !== 'org.bluez.Error.AlreadyConnected') {
          // Cancels a connection attempt BlueZ may still be making.
          await bestEffort(withTimeout(device.disconnect(), 2000, 'Disconnect'));
          throw new DeviceError('connect', `connect to ${this.address} failed: ${errorText(err)}`, { cause: err });
        }
      }
      const gatt = await withTimeout(device.gatt(), this.connectTimeoutMs, `service discovery on ${this.address}`);
      const problems: string[] = [];
      for (const group of this.plan.groups) {
        try {
          const service = await gatt.getPrimaryService(group.service);
          link.chars.set(group.key, await service.getCharacteristic(group.characteristic));
        } catch (err) {
          const text = `${group.label} not available on ${this.address} (${errorText(err)})`;
          link.missing.set(group.key, text);
          problems.push(text);
        }
      }
      if (problems.length > 0) {
        const offered = (await gatt.services().catch(() => [] as string[])).map(shortUuid).join(', ');
        this.ctx.reportError('gatt', new DeviceError('gatt', `${problems.join('; ')}; services offered: ${offered || 'none'}`));
      }
      if (this.stopped) throw new DeviceError('stopped', 'driver stopped');
      return link;
    } catch (err) {
      if (link) await this.teardown(link, this.stopped);
      else session.close();
      throw err;
    } finally {
      this.connecting = null;
    }
  }

  private watch(link: Link): void {
    const onDisconnect = (): void => link.lose('device disconnected');
    link.device.on('disconnect', onDisconnect);
    link.cleanups.push(() => link.device.off('disconnect', onDisconnect));
    link.cleanups.push(
      this.hub.subscribe(this.path, (u) => {
        if (u.removed) link.lose('BlueZ removed the device');
        else if (u.connected === false) link.lose('link lost');
      }),
      this.hub.onLost((reason) => link.lose(reason)),
      link.session.onClose((reason) => link.lose(reason)),
    );
  }

  private async subscribe(link: Link): Promise<void> {
    for (const group of this.plan.groups) {
      const points = group.points.filter((p) => p.mode === 'notify');
      const ch = link.chars.get(group.key);
      if (points.length === 0 || !ch) continue;
      const onValue = (value: Buffer): void => this.ctx.emit(readingsFromValue(points, value, this.ctx.clock.now()));
      ch.on('valuechanged', onValue);
      link.cleanups.push(() => ch.off('valuechanged', onValue));
      try {
        await this.guard(withTimeout(ch.startNotifications(), this.timeoutMs, `StartNotify on ${group.label}`));
        link.notifying.push(ch);
      } catch (err) {
        if (this.stopped) throw err;
        if (LINK_GONE.has(dbusErrorName(err) ?? '')) link.lose(`StartNotify failed: ${errorText(err)}`);
        const text = `notifications of ${group.label} on ${this.address} failed: ${errorText(err)}`;
        link.missing.set(group.key, text);
        this.ctx.reportError('gatt', new DeviceError('gatt', text, { cause: err }));
        continue;
      }
      // The current value, so a rarely changing notify point does not stay empty until it changes;
      // characteristics that cannot be read simply refuse.
      try {
        const value = await this.guard(withTimeout(ch.readValue(), this.timeoutMs, `read of ${group.label}`));
        onValue(value);
      } catch (err) {
        if (this.stopped) throw err;
        this.ctx.logger.debug({ err: errorText(err), characteristic: group.label }, 'initial read of a notify characteristic failed');
      }
    }
  }

  /** Drops every listener and the session; disconnects the device when we are stopping. */
  private async teardown(link: Link, disconnect: boolean): Promise<void> {
    for (const cleanup of link.cleanups.splice(0)) cleanup();
    if (disconnect && !link.session.closed) {
      for (const ch of link.notifying) await bestEffort(withTimeout(ch.stopNotifications(), 2000, 'StopNotify'));
      await bestEffort(withTimeout(link.device.disconnect(), 2000, 'Disconnect'));
    }
    link.session.close();
  }
}
