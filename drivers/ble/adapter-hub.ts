// Everything the BLE devices on one adapter share, handed out through
// ctx.resources.acquire(`ble:<adapter>`): the control connection to BlueZ (adapter checks,
// discovery, signal routing by device path), a reference count of the devices that need
// discovery, and the queue that keeps Connect calls on the adapter one at a time.
// "lost" means every device on the adapter must start over (bus gone, bluetoothd restarted,
// adapter removed or powered off); "available" wakes devices waiting to retry.
import { EventEmitter } from 'node:events';
import { DeviceError, SerialQueue, withTimeout, errorText } from '../../src/driver-api/index.js';
import { BluezBus, type DeviceUpdate } from './bluez-bus.js';

export const CONTROL_CALL_TIMEOUT_MS = 5000;

export class AdapterHub {
  private bus: BluezBus | null = null;
  private opening: Promise<BluezBus> | null = null;
  private readonly listeners = new Map<string, Set<(update: DeviceUpdate) => void>>();
  private readonly events = new EventEmitter();
  /** Bumped on every loss; discovery started in an older epoch is no longer ours. */
  private epoch = 0;
  private discoveryUsers = 0;
  private discoveryEpoch = -1;
  private discoveryStarting: Promise<void> | null = null;
  private readonly connectQueue = new SerialQueue();
  private isClosed = false;

  constructor(
    readonly adapter: string,
    private readonly callTimeoutMs = CONTROL_CALL_TIMEOUT_MS,
  ) {
    this.events.setMaxListeners(0);
  }

  /** Resolves when BlueZ runs and the adapter exists and is powered; otherwise an 'adapter' DeviceError. */
  async ready(): Promise<void> {
    let powered: boolean;
    try {
      powered = await (await this.openBus()).adapterPowered();
    } catch (err) {
      if (err instanceof DeviceError && err.code === 'adapter') throw err;
      throw new DeviceError('adapter', `BlueZ did not answer for adapter ${this.adapter}: ${errorText(err)}`, { cause: err });
    }
    if (!powered) {
      throw new DeviceError('adapter', `adapter ${this.adapter} is powered off (bluetoothctl power on, or AutoEnable=true in /etc/bluetooth/main.conf)`);
    }
  }

  /** Device1 changes for one object path; returns the unsubscribe function. */
  subscribe(path: string, listener: (update: DeviceUpdate) => void): () => void {
    let set = this.listeners.get(path);
    if (!set) {
      set = new Set();
      this.listeners.set(path, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(path);
    };
  }

  onLost(listener: (reason: string) => void): () => void {
    this.events.on('lost', listener);
    return () => this.events.off('lost', listener);
  }

  onAvailable(listener: () => void): () => void {
    this.events.on('available', listener);
    return () => this.events.off('available', listener);
  }

  async deviceProperties(path: string): Promise<DeviceUpdate | undefined> {
    return (await this.openBus()).deviceProperties(path);
  }

  /** Counts one more user of discovery and makes sure it runs. Always pair with releaseDiscovery(). */
  async acquireDiscovery(): Promise<void> {
    this.discoveryUsers += 1;
    await this.ensureDiscovery();
  }

  releaseDiscovery(): void {
    this.discoveryUsers = Math.max(0, this.discoveryUsers - 1);
    if (this.discoveryUsers === 0) this.stopDiscovery();
  }

  /** Runs connection attempts on this adapter one at a time. */
  serialize<T>(task: () => Promise<T>): Promise<T> {
    return this.connectQueue.run(task);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    const bus = this.bus;
    this.bus = null;
    if (bus && !bus.closed) {
      if (this.discoveryEpoch === this.epoch) {
        await withTimeout(bus.stopDiscovery(), 1000, 'StopDiscovery').catch(() => undefined);
      }
      bus.close();
    }
    this.listeners.clear();
    this.events.removeAllListeners();
  }

  private async ensureDiscovery(): Promise<void> {
    if (this.discoveryEpoch === this.epoch) return;
    if (!this.discoveryStarting) {
      const epoch = this.epoch;
      this.discoveryStarting = (async () => {
        const bus = await this.openBus();
        await bus.startDiscovery();
        if (epoch === this.epoch) this.discoveryEpoch = epoch;
        // Everybody left while the call was on its way.
        if (this.discoveryUsers === 0) this.stopDiscovery();
      })().finally(() => {
        this.discoveryStarting = null;
      });
    }
    await this.discoveryStarting;
  }

  private stopDiscovery(): void {
    if (this.discoveryEpoch !== this.epoch) return;
    this.discoveryEpoch = -1;
    const bus = this.bus;
    if (bus && !bus.closed) bus.stopDiscovery().catch(() => undefined);
  }

  private openBus(): Promise<BluezBus> {
    if (this.isClosed) return Promise.reject(new DeviceError('adapter', 'BLE adapter hub is closed'));
    if (this.bus && !this.bus.closed) return Promise.resolve(this.bus);
    if (!this.opening) {
      this.opening = BluezBus.open(this.adapter, this.callTimeoutMs)
        .then((bus) => {
          if (this.isClosed) {
            bus.close();
            throw new DeviceError('adapter', 'BLE adapter hub is closed');
          }
          this.wire(bus);
          this.bus = bus;
          return bus;
        })
        .finally(() => {
          this.opening = null;
        });
    }
    return this.opening;
  }

  private wire(bus: BluezBus): void {
    bus.on('device', (update: DeviceUpdate) => {
      for (const listener of [...(this.listeners.get(update.path) ?? [])]) listener(update);
    });
    bus.on('adapter', (update: { added?: boolean; removed?: boolean; powered?: boolean }) => {
      if (update.removed) this.lose(`adapter ${this.adapter} was removed`);
      else if (update.powered === false) this.lose(`adapter ${this.adapter} was powered off`);
      else if (update.added || update.powered === true) this.events.emit('available');
    });
    bus.on('owner', (owner: string | null) => {
      if (owner === null) this.lose('bluetoothd left the system bus');
      else this.events.emit('available');
    });
    bus.once('closed', () => {
      if (this.bus === bus) this.bus = null;
      if (!this.isClosed) this.lose('D-Bus connection to BlueZ closed');
    });
  }

  private lose(reason: string): void {
    this.epoch += 1;
    this.discoveryEpoch = -1;
    this.events.emit('lost', reason);
  }
}
