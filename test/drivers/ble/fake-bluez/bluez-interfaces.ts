// D-Bus interfaces of the fake org.bluez, declared with dbus-next's configureMembers (no
// decorators). Each class holds the state of one object; the FakeBluez tree wires them together
// through the hooks below. Signatures follow BlueZ's doc/org.bluez.*.rst so node-ble and the
// driver see what they would see from bluetoothd.
import dbus from 'dbus-next';

const { Interface } = dbus.interface;
type Variant = InstanceType<typeof dbus.Variant>;

/** A BlueZ-style error reply, e.g. org.bluez.Error.NotReady. */
export function bluezError(name: string, text: string): Error {
  return new dbus.DBusError(`org.bluez.Error.${name}`, text);
}

/** Property values of an exported interface as a{sv}, the way GetManagedObjects reports them. */
export function propertyVariants(iface: InstanceType<typeof Interface>): Record<string, Variant> {
  const described = (iface as unknown as { $properties?: Record<string, { name: string; signature: string }> }).$properties ?? {};
  const out: Record<string, Variant> = {};
  for (const p of Object.values(described)) {
    const value = (iface as unknown as Record<string, unknown>)[p.name];
    if (value !== undefined) out[p.name] = new dbus.Variant(p.signature, value);
  }
  return out;
}

export function emitChanged(iface: InstanceType<typeof Interface>, changed: Record<string, unknown>): void {
  Interface.emitPropertiesChanged(iface, changed, []);
}

type ManagedObjects = Record<string, Record<string, Record<string, Variant>>>;

export class ObjectManagerIface extends Interface {
  constructor(private readonly snapshot: () => ManagedObjects) {
    super('org.freedesktop.DBus.ObjectManager');
  }

  GetManagedObjects(): ManagedObjects {
    return this.snapshot();
  }

  InterfacesAdded(path: string, interfaces: Record<string, Record<string, Variant>>): [string, Record<string, Record<string, Variant>>] {
    return [path, interfaces];
  }

  InterfacesRemoved(path: string, interfaces: string[]): [string, string[]] {
    return [path, interfaces];
  }
}
ObjectManagerIface.configureMembers({
  methods: { GetManagedObjects: { inSignature: '', outSignature: 'a{oa{sa{sv}}}' } },
  signals: {
    InterfacesAdded: { signature: 'oa{sa{sv}}' },
    InterfacesRemoved: { signature: 'oas' },
  },
});

/** node-ble looks this interface up on /org/bluez before it lists adapters. */
export class AgentManagerIface extends Interface {
  constructor() {
    super('org.bluez.AgentManager1');
  }

  RegisterAgent(): void {}

  UnregisterAgent(): void {}
}
AgentManagerIface.configureMembers({
  methods: {
    RegisterAgent: { inSignature: 'os', outSignature: '' },
    UnregisterAgent: { inSignature: 'o', outSignature: '' },
  },
});

export interface AdapterHooks {
  startDiscovery(): void;
  stopDiscovery(): void;
  setDiscoveryFilter(filter: Record<string, Variant>): void;
}

export class AdapterIface extends Interface {
  Address: string;
  Name: string;
  Alias: string;
  Powered: boolean;
  Discovering = false;

  constructor(name: string, address: string, powered: boolean, private readonly hooks: AdapterHooks) {
    super('org.bluez.Adapter1');
    this.Address = address;
    this.Name = name;
    this.Alias = name;
    this.Powered = powered;
  }

  SetDiscoveryFilter(filter: Record<string, Variant>): void {
    this.hooks.setDiscoveryFilter(filter);
  }

  StartDiscovery(): void {
    if (!this.Powered) throw bluezError('NotReady', 'Resource Not Ready');
    this.hooks.startDiscovery();
  }

  StopDiscovery(): void {
    if (!this.Discovering) throw bluezError('Failed', 'No discovery started');
    this.hooks.stopDiscovery();
  }
}
AdapterIface.configureMembers({
  properties: {
    Address: { signature: 's', access: 'read' },
    Name: { signature: 's', access: 'read' },
    Alias: { signature: 's', access: 'read' },
    Powered: { signature: 'b' },
    Discovering: { signature: 'b', access: 'read' },
  },
  methods: {
    SetDiscoveryFilter: { inSignature: 'a{sv}', outSignature: '' },
    StartDiscovery: { inSignature: '', outSignature: '' },
    StopDiscovery: { inSignature: '', outSignature: '' },
  },
});

export interface DeviceHooks {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

export class DeviceIface extends Interface {
  Address: string;
  AddressType = 'public';
  Name: string;
  Alias: string;
  Adapter: string;
  Paired = false;
  Connected = false;
  ServicesResolved = false;
  RSSI: number;
  ManufacturerData: Record<number, Variant> = {};
  ServiceData: Record<string, Variant> = {};

  constructor(address: string, name: string, adapterPath: string, rssi: number, private readonly hooks: DeviceHooks) {
    super('org.bluez.Device1');
    this.Address = address;
    this.Name = name;
    this.Alias = name;
    this.Adapter = adapterPath;
    this.RSSI = rssi;
  }

  async Connect(): Promise<void> {
    await this.hooks.connect();
  }

  async Disconnect(): Promise<void> {
    await this.hooks.disconnect();
  }
}
DeviceIface.configureMembers({
  properties: {
    Address: { signature: 's', access: 'read' },
    AddressType: { signature: 's', access: 'read' },
    Name: { signature: 's', access: 'read' },
    Alias: { signature: 's', access: 'read' },
    Adapter: { signature: 'o', access: 'read' },
    Paired: { signature: 'b', access: 'read' },
    Connected: { signature: 'b', access: 'read' },
    ServicesResolved: { signature: 'b', access: 'read' },
    RSSI: { signature: 'n', access: 'read' },
    ManufacturerData: { signature: 'a{qv}', access: 'read' },
    ServiceData: { signature: 'a{sv}', access: 'read' },
  },
  methods: {
    Connect: { inSignature: '', outSignature: '' },
    Disconnect: { inSignature: '', outSignature: '' },
  },
});

export class GattServiceIface extends Interface {
  UUID: string;
  Primary = true;
  Device: string;

  constructor(uuid: string, devicePath: string) {
    super('org.bluez.GattService1');
    this.UUID = uuid;
    this.Device = devicePath;
  }
}
GattServiceIface.configureMembers({
  properties: {
    UUID: { signature: 's', access: 'read' },
    Primary: { signature: 'b', access: 'read' },
    Device: { signature: 'o', access: 'read' },
  },
});

export interface CharacteristicHooks {
  read(): Promise<Buffer>;
  write(value: Buffer, options: Record<string, Variant>): Promise<void>;
  startNotify(): void;
  stopNotify(): void;
}

export class GattCharacteristicIface extends Interface {
  UUID: string;
  Service: string;
  Value: Buffer;
  Notifying = false;
  Flags: string[];

  constructor(uuid: string, servicePath: string, value: Buffer, flags: string[], private readonly hooks: CharacteristicHooks) {
    super('org.bluez.GattCharacteristic1');
    this.UUID = uuid;
    this.Service = servicePath;
    this.Value = value;
    this.Flags = flags;
  }

  async ReadValue(_options: Record<string, Variant>): Promise<Buffer> {
    return this.hooks.read();
  }

  async WriteValue(value: Buffer | number[], options: Record<string, Variant>): Promise<void> {
    await this.hooks.write(Buffer.from(value), options);
  }

  StartNotify(): void {
    this.hooks.startNotify();
  }

  StopNotify(): void {
    this.hooks.stopNotify();
  }
}
GattCharacteristicIface.configureMembers({
  properties: {
    UUID: { signature: 's', access: 'read' },
    Service: { signature: 'o', access: 'read' },
    Value: { signature: 'ay', access: 'read' },
    Notifying: { signature: 'b', access: 'read' },
    Flags: { signature: 'as', access: 'read' },
  },
  methods: {
    ReadValue: { inSignature: 'a{sv}', outSignature: 'ay' },
    WriteValue: { inSignature: 'aya{sv}', outSignature: '' },
    StartNotify: { inSignature: '', outSignature: '' },
    StopNotify: { inSignature: '', outSignature: '' },
  },
});
