// A fake bluetoothd for integration tests: owns org.bluez on a (private) bus and exports an
// ObjectManager on /, adapters, devices with advertisement properties and, while a device is
// connected, its GATT services and characteristics — created on Connect and removed on
// disconnect, as BlueZ does for devices without a GATT cache. Tests drive it from the outside:
// change advertisements, push notifications, drop links, remove and add adapters.
import { createRequire } from 'node:module';
import dbus from 'dbus-next';
import {
  AdapterIface,
  AgentManagerIface,
  DeviceIface,
  GattCharacteristicIface,
  GattServiceIface,
  ObjectManagerIface,
  bluezError,
  emitChanged,
  propertyVariants,
} from './bluez-interfaces.js';

type Iface = InstanceType<typeof dbus.interface.Interface>;
type Variant = InstanceType<typeof dbus.Variant>;
type Bus = ReturnType<typeof dbus.sessionBus>;

export interface FakeCharacteristicSpec {
  uuid: string;
  flags?: string[];
  value?: Buffer;
}

export interface FakeServiceSpec {
  uuid: string;
  characteristics: FakeCharacteristicSpec[];
}

export interface FakeDeviceSpec {
  address: string;
  name?: string;
  rssi?: number;
  manufacturerData?: Record<number, Buffer>;
  serviceData?: Record<string, Buffer>;
  services?: FakeServiceSpec[];
}

export interface FakeStats {
  connectCalls: number;
  disconnectCalls: number;
  /** Highest number of Connect calls in progress at the same time, over all devices. */
  maxConcurrentConnects: number;
  startDiscoveryCalls: number;
  stopDiscoveryCalls: number;
  discoveryFilters: Record<string, unknown>[];
}

const BLUEZ_ROOT = '/org/bluez';

interface SimpleMarshaller {
  check(data: unknown): void;
  marshall(ps: unknown, data: unknown): void;
}

/**
 * dbus-next 0.10 sends dict keys as the strings Object.keys() returns, so it cannot send BlueZ's
 * ManufacturerData (a{qv}). The fake teaches its integer marshallers to take decimal strings.
 * Only sending is affected, and only values that would otherwise throw.
 */
function allowNumericStringKeys(): void {
  const marshallers = createRequire(import.meta.url)('dbus-next/lib/marshallers.js') as {
    MakeSimpleMarshaller: ((signature: string) => SimpleMarshaller) & { patchedForKeys?: boolean };
  };
  const original = marshallers.MakeSimpleMarshaller;
  if (original.patchedForKeys) return;
  const patched = (signature: string): SimpleMarshaller => {
    const m = original(signature);
    if (!'ynqiux'.includes(signature)) return m;
    const toNumber = (data: unknown): unknown => (typeof data === 'string' && /^-?\d+$/.test(data) ? Number(data) : data);
    const { check, marshall } = m;
    m.check = function (data) {
      check.call(this, toNumber(data));
    };
    m.marshall = function (ps, data) {
      marshall.call(this, ps, toNumber(data));
    };
    return m;
  };
  patched.patchedForKeys = true;
  marshallers.MakeSimpleMarshaller = patched;
}

function devicePathPart(address: string): string {
  return `dev_${address.toUpperCase().replace(/:/g, '_')}`;
}

export class FakeCharacteristic {
  readonly writes: Buffer[] = [];
  readonly iface: GattCharacteristicIface;
  /** Make the next N reads fail with org.bluez.Error.Failed. */
  failReads = 0;

  constructor(
    readonly uuid: string,
    readonly path: string,
    servicePath: string,
    value: Buffer,
    flags: string[],
  ) {
    this.iface = new GattCharacteristicIface(uuid, servicePath, value, flags, {
      read: async () => {
        if (this.failReads > 0) {
          this.failReads -= 1;
          throw bluezError('Failed', 'Operation failed with ATT error: 0x0e');
        }
        return this.iface.Value;
      },
      write: async (v) => {
        this.writes.push(v);
        this.iface.Value = v;
      },
      startNotify: () => {
        if (!this.iface.Notifying) {
          this.iface.Notifying = true;
          emitChanged(this.iface, { Notifying: true });
        }
      },
      stopNotify: () => {
        if (this.iface.Notifying) {
          this.iface.Notifying = false;
          emitChanged(this.iface, { Notifying: false });
        }
      },
    });
  }

  get value(): Buffer {
    return this.iface.Value;
  }

  /** Sets the value a read returns, without notifying. */
  setValue(value: Buffer): void {
    this.iface.Value = value;
  }

  get notifying(): boolean {
    return this.iface.Notifying;
  }

  /** A notification: BlueZ reports it as a PropertiesChanged of Value. */
  notify(value: Buffer): void {
    this.iface.Value = value;
    if (this.iface.Notifying) emitChanged(this.iface, { Value: value });
  }
}

export class FakeDevice {
  readonly iface: DeviceIface;
  readonly path: string;
  /** Make the next N Connect calls fail with org.bluez.Error.Failed. */
  failConnects = 0;
  connectDelayMs = 0;
  /** Delay between Connected=true and ServicesResolved=true. */
  resolveDelayMs = 0;
  private readonly characteristics = new Map<string, FakeCharacteristic>();
  private readonly gattObjects: { path: string; iface: Iface }[] = [];

  constructor(
    private readonly owner: FakeBluez,
    readonly adapterPath: string,
    readonly spec: FakeDeviceSpec,
  ) {
    this.path = `${adapterPath}/${devicePathPart(spec.address)}`;
    this.iface = new DeviceIface(spec.address.toUpperCase(), spec.name ?? '', adapterPath, spec.rssi ?? -60, {
      connect: () => this.handleConnect(),
      disconnect: async () => {
        owner.stats.disconnectCalls += 1;
        this.dropLink();
      },
    });
    this.iface.ManufacturerData = toManufacturerVariants(spec.manufacturerData ?? {});
    this.iface.ServiceData = toServiceVariants(spec.serviceData ?? {});
    let handle = 0x000a;
    for (const service of spec.services ?? []) {
      const servicePath = `${this.path}/service${hex4(handle)}`;
      this.gattObjects.push({ path: servicePath, iface: new GattServiceIface(service.uuid, this.path) });
      handle += 1;
      for (const c of service.characteristics) {
        const charPath = `${servicePath}/char${hex4(handle)}`;
        const fake = new FakeCharacteristic(c.uuid, charPath, servicePath, c.value ?? Buffer.alloc(0), c.flags ?? ['read', 'write', 'notify']);
        this.characteristics.set(c.uuid.toLowerCase(), fake);
        this.gattObjects.push({ path: charPath, iface: fake.iface });
        handle += 2;
      }
    }
  }

  get connected(): boolean {
    return this.iface.Connected;
  }

  characteristic(uuid: string): FakeCharacteristic {
    const c = this.characteristics.get(uuid.toLowerCase());
    if (!c) throw new Error(`fake device ${this.spec.address} has no characteristic ${uuid}`);
    return c;
  }

  setManufacturerData(data: Record<number, Buffer>): void {
    this.iface.ManufacturerData = toManufacturerVariants(data);
    emitChanged(this.iface, { ManufacturerData: this.iface.ManufacturerData });
  }

  setServiceData(data: Record<string, Buffer>): void {
    this.iface.ServiceData = toServiceVariants(data);
    emitChanged(this.iface, { ServiceData: this.iface.ServiceData });
  }

  setRssi(rssi: number): void {
    this.iface.RSSI = rssi;
    emitChanged(this.iface, { RSSI: rssi });
  }

  /** The link goes away (out of range, device reset): the same signals BlueZ sends. */
  dropLink(): void {
    if (!this.iface.Connected) return;
    this.iface.ServicesResolved = false;
    emitChanged(this.iface, { ServicesResolved: false });
    this.iface.Connected = false;
    emitChanged(this.iface, { Connected: false });
    for (const c of this.characteristics.values()) c.iface.Notifying = false;
    for (const o of [...this.gattObjects].reverse()) this.owner.unexportObject(o.path, o.iface);
  }

  private async handleConnect(): Promise<void> {
    const stats = this.owner.stats;
    stats.connectCalls += 1;
    this.owner.connectsInProgress += 1;
    stats.maxConcurrentConnects = Math.max(stats.maxConcurrentConnects, this.owner.connectsInProgress);
    try {
      if (this.connectDelayMs > 0) await sleep(this.connectDelayMs);
      const adapter = this.owner.adapterAt(this.adapterPath);
      if (!adapter?.Powered) throw bluezError('NotReady', 'Resource Not Ready');
      if (this.failConnects > 0) {
        this.failConnects -= 1;
        throw bluezError('Failed', 'le-connection-abort-by-local');
      }
      if (this.iface.Connected) return;
      for (const o of this.gattObjects) this.owner.exportObject(o.path, o.iface);
      this.iface.Connected = true;
      emitChanged(this.iface, { Connected: true });
      const resolve = (): void => {
        if (!this.iface.Connected) return;
        this.iface.ServicesResolved = true;
        emitChanged(this.iface, { ServicesResolved: true });
      };
      if (this.resolveDelayMs > 0) setTimeout(resolve, this.resolveDelayMs);
      else resolve();
    } finally {
      this.owner.connectsInProgress -= 1;
    }
  }
}

export class FakeBluez {
  readonly stats: FakeStats = {
    connectCalls: 0,
    disconnectCalls: 0,
    maxConcurrentConnects: 0,
    startDiscoveryCalls: 0,
    stopDiscoveryCalls: 0,
    discoveryFilters: [],
  };
  connectsInProgress = 0;
  private stopped = false;
  private readonly objects = new Map<string, Map<string, Iface>>();
  private readonly adapters = new Map<string, AdapterIface>();
  private readonly devices = new Map<string, FakeDevice>();
  private readonly objectManager: ObjectManagerIface;

  private constructor(private readonly bus: Bus) {
    this.objectManager = new ObjectManagerIface(() => this.snapshot());
    bus.export('/', this.objectManager);
    bus.export(BLUEZ_ROOT, new AgentManagerIface());
  }

  /** Connects to the bus at `address` and takes the name org.bluez. */
  static async start(address: string): Promise<FakeBluez> {
    allowNumericStringKeys();
    const bus = dbus.sessionBus({ busAddress: address });
    bus.on('error', () => {});
    try {
      const fake = new FakeBluez(bus);
      const reply = await bus.requestName('org.bluez', dbus.NameFlag.DO_NOT_QUEUE);
      if (reply !== dbus.RequestNameReply.PRIMARY_OWNER) throw new Error(`could not own org.bluez (reply ${reply})`);
      return fake;
    } catch (err) {
      // Nobody gets a fake to stop: the connection would outlive the test.
      bus.disconnect();
      throw err;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // A call on a dead bus never settles in dbus-next: bound it.
    const released = this.bus.releaseName('org.bluez').catch(() => undefined);
    await Promise.race([released, sleep(1000)]);
    this.bus.disconnect();
  }

  addAdapter(name = 'hci0', options: { powered?: boolean; address?: string } = {}): AdapterIface {
    const path = `${BLUEZ_ROOT}/${name}`;
    const adapter: AdapterIface = new AdapterIface(name, options.address ?? '00:1A:7D:DA:71:13', options.powered ?? true, {
      setDiscoveryFilter: (filter) => {
        this.stats.discoveryFilters.push(Object.fromEntries(Object.entries(filter).map(([k, v]) => [k, v.value])));
      },
      startDiscovery: () => {
        this.stats.startDiscoveryCalls += 1;
        if (!adapter.Discovering) {
          adapter.Discovering = true;
          emitChanged(adapter, { Discovering: true });
        }
      },
      stopDiscovery: () => {
        this.stats.stopDiscoveryCalls += 1;
        adapter.Discovering = false;
        emitChanged(adapter, { Discovering: false });
      },
    });
    this.adapters.set(path, adapter);
    this.exportObject(path, adapter);
    return adapter;
  }

  /** The adapter disappears (USB dongle unplugged): its devices go with it. */
  removeAdapter(name = 'hci0'): void {
    const path = `${BLUEZ_ROOT}/${name}`;
    for (const [key, device] of [...this.devices]) {
      if (device.adapterPath === path) {
        device.dropLink();
        this.unexportObject(device.path, device.iface);
        this.devices.delete(key);
      }
    }
    const adapter = this.adapters.get(path);
    if (adapter) this.unexportObject(path, adapter);
    this.adapters.delete(path);
  }

  adapterAt(path: string): AdapterIface | undefined {
    return this.adapters.get(path);
  }

  adapter(name = 'hci0'): AdapterIface {
    const a = this.adapters.get(`${BLUEZ_ROOT}/${name}`);
    if (!a) throw new Error(`no fake adapter ${name}`);
    return a;
  }

  setPowered(name: string, powered: boolean): void {
    const a = this.adapter(name);
    a.Powered = powered;
    emitChanged(a, { Powered: powered });
  }

  addDevice(spec: FakeDeviceSpec, adapterName = 'hci0'): FakeDevice {
    const adapterPath = `${BLUEZ_ROOT}/${adapterName}`;
    if (!this.adapters.has(adapterPath)) throw new Error(`no fake adapter ${adapterName}`);
    const device = new FakeDevice(this, adapterPath, spec);
    this.devices.set(device.path, device);
    this.exportObject(device.path, device.iface);
    return device;
  }

  device(address: string, adapterName = 'hci0'): FakeDevice {
    const d = this.devices.get(`${BLUEZ_ROOT}/${adapterName}/${devicePathPart(address)}`);
    if (!d) throw new Error(`no fake device ${address}`);
    return d;
  }

  exportObject(path: string, iface: Iface): void {
    let ifaces = this.objects.get(path);
    if (!ifaces) {
      ifaces = new Map();
      this.objects.set(path, ifaces);
    }
    if (ifaces.has(nameOf(iface))) return;
    ifaces.set(nameOf(iface), iface);
    this.bus.export(path, iface);
    this.objectManager.InterfacesAdded(path, { [nameOf(iface)]: propertyVariants(iface) });
  }

  unexportObject(path: string, iface: Iface): void {
    const ifaces = this.objects.get(path);
    if (!ifaces?.has(nameOf(iface))) return;
    ifaces.delete(nameOf(iface));
    if (ifaces.size === 0) this.objects.delete(path);
    this.bus.unexport(path, iface);
    this.objectManager.InterfacesRemoved(path, [nameOf(iface)]);
  }

  private snapshot(): Record<string, Record<string, Record<string, Variant>>> {
    const out: Record<string, Record<string, Record<string, Variant>>> = {};
    for (const [path, ifaces] of this.objects) {
      out[path] = {};
      for (const [name, iface] of ifaces) out[path][name] = propertyVariants(iface);
    }
    return out;
  }
}

function toManufacturerVariants(data: Record<number, Buffer>): Record<number, Variant> {
  const out: Record<number, Variant> = {};
  for (const [id, bytes] of Object.entries(data)) out[Number(id)] = new dbus.Variant('ay', bytes);
  return out;
}

function toServiceVariants(data: Record<string, Buffer>): Record<string, Variant> {
  const out: Record<string, Variant> = {};
  for (const [uuid, bytes] of Object.entries(data)) out[uuid] = new dbus.Variant('ay', bytes);
  return out;
}

function nameOf(iface: Iface): string {
  return (iface as unknown as { $name: string }).$name;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
