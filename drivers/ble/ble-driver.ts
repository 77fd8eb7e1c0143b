// The Driver of one BLE device: a GATT link or an advertisement scanner, on the adapter hub it
// shares with the other BLE devices of the gateway.
import { CommandError, type Driver, type DriverContext, type Reading, type Scalar } from '../../src/driver-api/index.js';
import { AdapterHub } from './adapter-hub.js';
import { AdvertisementScanner } from './adv-scanner.js';
import { adapterOf, isGattDevice, type BleDeviceConfig } from './config.js';
import { GattLink } from './gatt-link.js';

export class BleDriver implements Driver {
  private readonly resourceKey: string;
  private gatt: GattLink | null = null;
  private scanner: AdvertisementScanner | null = null;

  constructor(
    private readonly device: BleDeviceConfig,
    private readonly ctx: DriverContext,
  ) {
    this.resourceKey = `ble:${adapterOf(device)}`;
  }

  /** Never rejects: BlueZ or the adapter missing is reported by the loops, which keep retrying. */
  async start(): Promise<void> {
    const adapter = adapterOf(this.device);
    const hub = this.ctx.resources.acquire(this.resourceKey, () => new AdapterHub(adapter), (h) => h.close());
    if (isGattDevice(this.device)) {
      this.gatt = new GattLink(this.device, this.ctx, hub);
      this.gatt.start();
    } else {
      this.scanner = new AdvertisementScanner(this.device, this.ctx, hub);
      this.scanner.start();
    }
  }

  async stop(): Promise<void> {
    const gatt = this.gatt;
    const scanner = this.scanner;
    this.gatt = null;
    this.scanner = null;
    if (!gatt && !scanner) return;
    await gatt?.stop();
    await scanner?.stop();
    await this.ctx.resources.release(this.resourceKey);
  }

  async poll(): Promise<Reading[]> {
    return this.gatt ? this.gatt.poll() : [];
  }

  async write(point: string, value: Scalar): Promise<void> {
    if (!this.gatt) throw new CommandError('not_writable', `${this.device.name} receives advertisements only; nothing to write`);
    await this.gatt.write(point, value);
  }
}
