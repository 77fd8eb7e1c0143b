// One node-ble session (its own system-bus connection) per GATT connection, closed when the link
// ends. node-ble subscribes through dbus-next proxies for every device and characteristic it
// touches, and dbus-next 0.10 never removes those match rules; on a shared, long-lived session a
// flapping device would exhaust the 512 rules the system bus allows per connection (measured:
// two rules per reconnect for a one-characteristic device). Closing the connection drops them,
// together with BlueZ's notification sessions of that client.
import { errorText } from '../../src/driver-api/index.js';
import type { EventEmitter } from 'node:events';
import nodeBle from 'node-ble';

export type NodeBleBluetooth = nodeBle.Bluetooth;
export type NodeBleDevice = nodeBle.Device;
export type NodeBleCharacteristic = nodeBle.GattCharacteristic;

export class GattSession {
  readonly bluetooth: NodeBleBluetooth;
  private readonly destroy: () => void;
  private isClosed = false;
  private readonly closeListeners = new Set<(reason: string) => void>();

  constructor() {
    // createBluetooth() reads DBUS_SYSTEM_BUS_ADDRESS now.
    const { bluetooth, destroy } = nodeBle.createBluetooth();
    this.bluetooth = bluetooth;
    this.destroy = destroy;
    // node-ble leaves its bus without an 'error' listener: a dying bus daemon would then crash
    // the whole gateway with an unhandled 'error' event.
    const bus = (bluetooth as unknown as { dbus?: EventEmitter & { _connection?: { stream?: EventEmitter } } }).dbus;
    bus?.on('error', (err: unknown) => this.markClosed(`D-Bus error: ${errorText(err)}`));
    bus?._connection?.stream?.once('close', () => this.markClosed('D-Bus connection closed'));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  onClose(listener: (reason: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeListeners.clear();
    try {
      this.destroy();
    } catch {
      // the connection may be gone already
    }
  }

  private markClosed(reason: string): void {
    if (this.isClosed) return;
    const listeners = [...this.closeListeners];
    this.close();
    for (const l of listeners) l(reason);
  }
}
